"""Each robustness transform on a synthetic image whose expected output is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from evaluator import robustness


def one(image: np.ndarray) -> np.ndarray:
    """A (H, W) uint8 image as a batch of one (1, 1, H, W)."""
    return np.asarray(image, dtype=np.uint8)[None, None]


def bar_image(size: int = 41, length: int = 18) -> np.ndarray:
    """A bright bar from the centre to the right: its direction is 0 degrees."""
    image = np.zeros((size, size), np.uint8)
    c = size // 2
    image[c, c + 1 : c + 1 + length] = 255
    return image


def direction_degrees(image: np.ndarray) -> float:
    """Counter-clockwise angle of the brightness-weighted mean offset from the centre."""
    c = (image.shape[0] - 1) / 2
    rows, cols = np.indices(image.shape)
    w = image.astype(np.float64)
    dx = ((cols - c) * w).sum() / w.sum()
    dy = ((rows - c) * w).sum() / w.sum()
    return math.degrees(math.atan2(-dy, dx))  # rows grow downwards


@pytest.mark.parametrize(("name", "degrees"), [("rotate_15", 15), ("rotate_45", 45)])
def test_rotation_turns_a_bar_counter_clockwise(name: str, degrees: float) -> None:
    out = robustness.apply_numpy(name, one(bar_image()))[0, 0]
    assert direction_degrees(out) == pytest.approx(degrees, abs=1.0)
    # Bilinear spreads the bar a little, but it keeps its length.
    rows, cols = np.nonzero(out > 64)
    assert np.hypot(rows - 20, cols - 20).max() == pytest.approx(18, abs=1.0)
    assert direction_degrees(bar_image()) == pytest.approx(0.0, abs=1e-9)


def test_rotation_by_90_degrees_is_exact_on_a_square_image() -> None:
    image = bar_image(size=41, length=18)
    out = robustness.apply_numpy("rotate_90", one(image))[0, 0]
    expected = np.zeros_like(image)
    expected[20 - 18 : 20, 20] = 255  # the bar now points up
    np.testing.assert_array_equal(out, expected)


def test_rotation_fills_the_corners_with_black() -> None:
    out = robustness.apply_numpy("rotate_45", one(np.full((32, 32), 200)))[0, 0]
    assert out[0, 0] == out[0, -1] == out[-1, 0] == out[-1, -1] == 0
    assert out[16, 16] == 200


def square_image(size: int, side: int) -> np.ndarray:
    image = np.zeros((size, size), np.uint8)
    lo = (size - side) // 2
    image[lo : lo + side, lo : lo + side] = 255
    return image


def bright_box(image: np.ndarray, threshold: int = 127) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(image > threshold)
    return rows.min(), rows.max(), cols.min(), cols.max()


def test_scale_half_shrinks_a_centred_square_onto_black() -> None:
    out = robustness.apply_numpy("scale_half", one(square_image(32, 8)))[0, 0]
    assert out.shape == (32, 32)
    assert bright_box(out) == (14, 17, 14, 17)  # side 8 -> 4, still centred
    assert (out[15:17, 15:17] == 255).all() and (out[14:18, 14:18] > 190).all()  # antialiased
    outside = np.ones_like(out, dtype=bool)
    outside[13:19, 13:19] = False
    assert (out[outside] == 0).all()


def test_scale_double_enlarges_a_centred_square_and_crops_to_size() -> None:
    out = robustness.apply_numpy("scale_double", one(square_image(32, 8)))[0, 0]
    assert out.shape == (32, 32)
    assert bright_box(out) == (8, 23, 8, 23)  # side 8 -> 16, still centred
    assert (out[9:23, 9:23] == 255).all()
    assert (out[:7] == 0).all() and (out[25:] == 0).all()


def test_scale_double_of_a_full_frame_pattern_keeps_its_centre() -> None:
    # A 4-pixel checker board: doubled, the centre crop shows 8-pixel cells.
    image = ((np.indices((32, 32)) // 4).sum(axis=0) % 2 * 255).astype(np.uint8)
    out = robustness.apply_numpy("scale_double", one(image))[0, 0]
    assert out[12, 12] == 255 - out[12, 20]  # neighbouring 8-pixel cells differ


def test_flip_mirrors_an_asymmetric_pattern() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (3, 2, 5, 7), dtype=np.uint8)  # RGB-like, non-square
    out = robustness.apply_numpy("hflip", image)
    np.testing.assert_array_equal(out, image[..., ::-1])
    np.testing.assert_array_equal(robustness.apply_numpy("hflip", out), image)
    l_shape = np.zeros((5, 5), np.uint8)
    l_shape[:, 0] = l_shape[-1, :2] = 255
    flipped = robustness.apply_numpy("hflip", one(l_shape))[0, 0]
    assert (flipped[:, -1] == 255).all() and flipped[-1, -2] == 255 and flipped[0, 0] == 0


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("brighter", 100, 150),
        ("brighter", 101, 151),  # floor(151.5)
        ("brighter", 200, 255),  # clipped
        ("darker", 100, 50),
        ("darker", 201, 100),  # floor(100.5)
        ("darker", 0, 0),
        ("low_contrast", 77, 77),  # a constant image is its own mean
    ],
)
def test_lighting_on_a_constant_image(name: str, value: int, expected: int) -> None:
    out = robustness.apply_numpy(name, one(np.full((6, 9), value)))
    assert (out == expected).all(), np.unique(out)


def test_low_contrast_moves_halfway_to_the_mean() -> None:
    image = np.zeros((8, 8), np.uint8)
    image[:, 4:] = 200  # mean 100
    out = robustness.apply_numpy("low_contrast", one(image))[0, 0]
    assert (out[:, :4] == 50).all() and (out[:, 4:] == 150).all()


def gaussian_1d(sigma: float, size: int) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


@pytest.mark.parametrize(("name", "sigma", "size"), [("blur_1", 1.0, 7), ("blur_2", 2.0, 13)])
def test_blur_of_an_impulse_is_the_gaussian_kernel(name: str, sigma: float, size: int) -> None:
    image = np.zeros((31, 31), np.uint8)
    image[15, 15] = 255
    out = robustness.apply_numpy(name, one(image))[0, 0].astype(int)
    kernel = np.outer(gaussian_1d(sigma, size), gaussian_1d(sigma, size))
    expected = np.zeros((31, 31))
    h = size // 2
    expected[15 - h : 16 + h, 15 - h : 16 + h] = 255 * kernel
    assert np.abs(out - expected).max() <= 1  # rounding to uint8 only
    assert out[15, 15] == out.max()
    np.testing.assert_array_equal(out, out.T)
    np.testing.assert_array_equal(out, out[::-1, ::-1])
    assert robustness.blur_kernel_size(sigma=sigma, height=31, width=31) == size


def test_blur_kernel_stays_inside_small_images() -> None:
    assert robustness.blur_kernel_size(sigma=2.0, height=4, width=9) == 7
    out = robustness.apply_numpy("blur_2", np.full((2, 1, 4, 9), 90, np.uint8))
    assert (out == 90).all()


@pytest.mark.parametrize(("name", "sigma"), [("noise_low", 0.08), ("noise_high", 0.18)])
def test_noise_statistics_and_determinism(name: str, sigma: float) -> None:
    images = np.full((16, 1, 64, 64), 128, np.uint8)
    out = robustness.apply_numpy(name, images)
    diff = out.astype(np.float64) - 128
    assert abs(diff.mean()) < 0.5
    assert diff.std() == pytest.approx(255 * sigma, rel=0.04)  # a little clipping at 2.8 sigma
    within = (np.abs(diff) <= 255 * sigma).mean()
    assert within == pytest.approx(0.683, abs=0.02)  # Gaussian, not uniform
    # Same bytes every time, whatever the batching; each image has noise of its own.
    np.testing.assert_array_equal(out, robustness.apply_numpy(name, images))
    np.testing.assert_array_equal(
        out[5:9], robustness.apply_numpy(name, images[5:9], first_index=5)
    )
    assert not np.array_equal(out[0], out[1])
    corr = np.corrcoef(diff[0].ravel(), diff[1].ravel())[0, 1]
    assert abs(corr) < 0.05


def test_the_two_noise_strengths_use_different_draws() -> None:
    images = np.full((2, 1, 16, 16), 128, np.uint8)
    low = robustness.apply_numpy("noise_low", images).astype(float) - 128
    high = robustness.apply_numpy("noise_high", images).astype(float) - 128
    assert abs(np.corrcoef(low.ravel(), high.ravel())[0, 1]) < 0.2


@pytest.mark.parametrize("name", robustness.NAMES)
@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (2, 3, 20, 24)])
def test_every_transform_keeps_shape_and_dtype(name: str, shape: tuple[int, ...]) -> None:
    images = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    images.setflags(write=False)  # like the memory-mapped set
    out = robustness.apply_numpy(name, images)
    assert out.shape == shape and out.dtype == np.uint8


def test_transforms_refuse_anything_but_uint8_batches() -> None:
    with pytest.raises(ValueError, match="uint8"):
        robustness.apply("hflip", torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="unknown transform"):
        robustness.apply("sheared", torch.zeros(1, 1, 4, 4, dtype=torch.uint8))


def test_catalogue_documents_every_transform_and_excludes_the_flip_from_the_summary() -> None:
    assert robustness.NAMES == (
        "rotate_15", "rotate_45", "rotate_90", "scale_half", "scale_double",
        "brighter", "darker", "low_contrast", "blur_1", "blur_2",
        "noise_low", "noise_high", "hflip",
    )  # fmt: skip
    assert robustness.NAMES[:-1] == robustness.CORRUPTIONS
    for entry in robustness.catalogue():
        assert entry["name"].replace("_", "").isalnum() and entry["name"].islower()
        assert entry["label"] and entry["description"]
        assert entry["control"] == (entry["name"] == "hflip")
