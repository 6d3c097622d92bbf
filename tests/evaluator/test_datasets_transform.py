"""The resize-then-centre-crop recipe and channel conversion, on images with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms
from torchvision.transforms import v2 as transforms_v2

from evaluator.datasets.decode import transform_file
from evaluator.datasets.transform import short_side_target, transform_pixels
from evaluator.spec import InputSpec

IMAGENET = InputSpec(channels=3, height=224, width=224, resize_short=256)


def halves(height: int, width: int) -> np.ndarray:
    """RGB (1, 3, h, w): left half red 200, right half blue 100, a 50 on green in the top rows."""
    image = np.zeros((1, 3, height, width), np.uint8)
    image[0, 0, :, : width // 2] = 200
    image[0, 2, :, width // 2 :] = 100
    image[0, 1, : height // 4] = 50
    return image


@pytest.mark.parametrize(
    ("spec", "size", "expected"),
    [
        (IMAGENET, (512, 1024), 256),
        (IMAGENET, (256, 300), None),  # short side already 256: crop only
        (InputSpec(channels=1, height=28, width=28), (28, 28), None),
        (InputSpec(channels=1, height=28, width=28), (8, 8), 28),
        (InputSpec(channels=1, height=28, width=32), (40, 40), 32),
        (InputSpec(channels=1, height=28, width=28), (28, 40), None),
    ],
)
def test_short_side_target(spec: InputSpec, size: tuple[int, int], expected: int | None) -> None:
    assert short_side_target(spec, *size) == expected


def test_resize_short_then_centre_crop_on_a_wide_image() -> None:
    # 512 x 1024 -> short side 256 gives 256 x 512 -> centre 224 x 224 spans columns 144..368 of
    # the resized image, so the red/blue edge (column 256) lands on column 112 of the crop, and
    # the green band (top 64 resized rows) on crop rows 0..31 (the crop starts at row 16).
    out = transform_pixels(halves(512, 1024), IMAGENET)
    assert out.shape == (1, 3, 224, 224) and out.dtype == np.uint8
    red, green, blue = out[0].astype(int)
    assert (red[:, :110] == 200).all() and (red[:, 114:] == 0).all()
    assert (blue[:, :110] == 0).all() and (blue[:, 114:] == 100).all()
    assert (green[:46] == 50).all() and (green[50:] == 0).all()
    # The same as torchvision's evaluation transform applied image by image (v1's uint8 tensor
    # path resamples in float, so it may differ by one level where values blend).
    source = torch.from_numpy(halves(512, 1024)[0])
    v2 = transforms_v2.Compose([transforms_v2.Resize(256), transforms_v2.CenterCrop(224)])
    np.testing.assert_array_equal(out[0], v2(source).numpy())
    v1 = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
    assert np.abs(out[0].astype(int) - v1(source).numpy()).max() <= 1


def test_short_side_already_at_target_is_cropped_only() -> None:
    image = halves(256, 512)
    out = transform_pixels(image, IMAGENET)
    np.testing.assert_array_equal(out[0], image[0, :, 16:240, 144:368])


def test_same_size_is_unchanged_and_grey_to_rgb_repeats() -> None:
    image = np.random.default_rng(0).integers(0, 256, (4, 1, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(
        transform_pixels(image, InputSpec(channels=1, height=28, width=28)), image
    )
    rgb = transform_pixels(image, InputSpec(channels=3, height=28, width=28))
    assert rgb.shape == (4, 3, 28, 28)
    for c in range(3):
        np.testing.assert_array_equal(rgb[:, c], image[:, 0])


def test_rgb_to_grey_uses_luma_weights() -> None:
    image = np.zeros((1, 3, 4, 4), np.uint8)
    image[0, 0], image[0, 1], image[0, 2] = 100, 200, 50
    grey = transform_pixels(image, InputSpec(channels=1, height=4, width=4))
    assert grey.shape == (1, 1, 4, 4)
    assert int(grey[0, 0, 0, 0]) == int(0.2989 * 100 + 0.587 * 200 + 0.114 * 50)


def test_upscale_small_images() -> None:
    flat = np.full((2, 1, 8, 8), 77, np.uint8)
    out = transform_pixels(flat, InputSpec(channels=3, height=32, width=32))
    assert out.shape == (2, 3, 32, 32) and (out == 77).all()


def test_file_decodes_like_the_array_path(tmp_path: Path) -> None:
    image = halves(512, 1024)
    Image.fromarray(image[0].transpose(1, 2, 0)).save(tmp_path / "wide.png")
    np.testing.assert_array_equal(
        transform_file(tmp_path / "wide.png", IMAGENET), transform_pixels(image, IMAGENET)[0]
    )
    grey = transform_file(tmp_path / "wide.png", InputSpec(channels=1, height=64, width=64))
    assert grey.shape == (1, 64, 64)
