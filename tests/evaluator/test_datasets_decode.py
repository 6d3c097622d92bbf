"""Decoding image files: torchvision's JPEG decoder gives PIL's pixels, and draft mode stays close.

The exact path must reproduce what imports have always written (PIL's decode, converted by
PIL), bit for bit, so that fingerprints stand. Draft mode is held to ``DRAFT_TOLERANCE`` on
photographs: scikit-learn's two sample photos at targets that use each of its three scales, and
ImageNet's recipe (256, then 224) on large synthetic photos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sklearn.datasets
import torch
from PIL import Image, ImageDraw
from torchvision.transforms import v2 as transforms_v2

from evaluator.datasets import decode
from evaluator.datasets.decode import (
    DRAFT_TOLERANCE,
    decode_file,
    decode_with_pil,
    draft_scale,
    for_torchvision,
    jpeg_frame,
    luma,
    transform_file,
)
from evaluator.datasets.transform import resized_size
from evaluator.spec import InputSpec

IMAGENET = InputSpec(channels=3, height=224, width=224, resize_short=256)
PHOTOS = Path(sklearn.datasets.__file__).parent / "images"  # china.jpg, flower.jpg: 640x427


def photo(height: int, width: int, *, seed: int = 0) -> Image.Image:
    """A photograph's make-up: smooth colour fields, a dozen sharp shapes, sensor grain."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 256, (max(2, height // 40), max(2, width // 40), 3), dtype=np.uint8)
    image = Image.fromarray(cells).resize((width, height), Image.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1 = x0 + int(rng.integers(width // 20 + 1, width // 3 + 2))
        y1 = y0 + int(rng.integers(height // 20 + 1, height // 3 + 2))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=fill)
    pixels = np.asarray(image, np.float32) + rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def save_jpeg(path: Path, image: Image.Image, **options: object) -> Path:
    image.save(path, format="JPEG", **options)
    return path


# --- the exact path: PIL's pixels, bit for bit ---------------------------------------------------

FLAVOURS = {
    "4:4:4": {"subsampling": 0},
    "4:2:2": {"subsampling": 1},
    "4:2:0": {"subsampling": 2},
    "4:4:4 progressive": {"subsampling": 0, "progressive": True},
    "4:2:0 progressive": {"subsampling": 2, "progressive": True},
    "4:2:0 optimised, quality 60": {"subsampling": 2, "optimize": True, "quality": 60},
    "RGB, no YCbCr": {"keep_rgb": True},
}


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
@pytest.mark.parametrize("size", [(375, 500), (333, 517), (1, 7), (17, 9)])
@pytest.mark.parametrize("channels", [3, 1])
def test_jpegs_decode_to_pils_pixels(
    tmp_path: Path, flavour: str, size: tuple[int, int], channels: int
) -> None:
    path = save_jpeg(tmp_path / "x.jpg", photo(*size), **FLAVOURS[flavour])
    assert for_torchvision(jpeg_frame(path.read_bytes()))
    spec = InputSpec(channels=channels, height=8, width=8)
    fast = decode_file(path, spec=spec, draft=False)
    reference = decode_with_pil(path, channels=channels)
    assert fast.size == size and fast.scale == 1
    assert fast.pixels.shape == (channels, *size)
    assert torch.equal(fast.pixels, reference.pixels)


@pytest.mark.parametrize("channels", [3, 1])
def test_grey_cmyk_and_png_named_jpg_decode_as_pil_does(tmp_path: Path, channels: int) -> None:
    grey = save_jpeg(tmp_path / "grey.jpg", photo(60, 80).convert("L"))
    cmyk = save_jpeg(tmp_path / "cmyk.jpg", photo(60, 80).convert("CMYK"))
    png = tmp_path / "png.jpg"
    photo(60, 80).save(png, format="PNG")
    assert for_torchvision(jpeg_frame(grey.read_bytes()))  # one component: torchvision's
    assert jpeg_frame(cmyk.read_bytes()).components == 4  # four: PIL's, as before
    assert not for_torchvision(jpeg_frame(cmyk.read_bytes()))
    assert jpeg_frame(png.read_bytes()) is None
    spec = InputSpec(channels=channels, height=8, width=8)
    for path in (grey, cmyk, png):
        decoded = decode_file(path, spec=spec, draft=False)
        assert torch.equal(decoded.pixels, decode_with_pil(path, channels=channels).pixels)
        assert decoded.pixels.shape == (channels, 60, 80)


def test_without_torchvisions_decoder_pil_gives_the_same_pixels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_jpeg(tmp_path / "x.jpg", photo(375, 500), subsampling=2)
    spec = InputSpec(channels=3, height=8, width=8)
    fast = decode_file(path, spec=spec, draft=False)
    monkeypatch.setattr(decode, "DECODE_JPEG", None)
    assert not for_torchvision(jpeg_frame(path.read_bytes()))
    assert torch.equal(decode_file(path, spec=spec, draft=False).pixels, fast.pixels)


def test_luma_is_pils_rgb_to_l() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    rgb[0, :8] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255]] + [[7] * 3] * 3
    expected = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.array_equal(luma(torch.from_numpy(rgb).permute(2, 0, 1))[0].numpy(), expected)


def test_broken_files_fail_with_pils_message(tmp_path: Path) -> None:
    spec = InputSpec(channels=3, height=8, width=8)
    good = save_jpeg(tmp_path / "good.jpg", photo(40, 48), quality=90).read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(OSError, match="image file is truncated"):
        decode_file(truncated, spec=spec)
    header_only = tmp_path / "header.jpg"
    header_only.write_bytes(good[:200])
    with pytest.raises(OSError, match=r"[Tt]runcated"):
        decode_file(header_only, spec=spec)
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"\xff\xd8\xff\xe0 and then nothing a decoder could use")
    with pytest.raises(OSError):
        decode_file(garbage, spec=spec)
    with pytest.raises(FileNotFoundError):
        decode_file(tmp_path / "missing.jpg", spec=spec)


def test_jpeg_frame_reads_the_frame_header(tmp_path: Path) -> None:
    data = save_jpeg(tmp_path / "x.jpg", photo(33, 45), progressive=True).read_bytes()
    frame = jpeg_frame(data)
    assert frame is not None
    assert (frame.marker, frame.precision, frame.height, frame.width, frame.components) == (
        0xC2,
        8,
        33,
        45,
        3,
    )
    assert jpeg_frame(data[:20]) is None  # cut before the frame header
    assert jpeg_frame(b"\xff\xd8\xff\xda\x00\x02") is None  # a scan before any frame
    assert jpeg_frame(b"\x89PNG\r\n\x1a\n") is None


# --- geometry -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(375, 500), (500, 375), (333, 517), (2448, 3264), (7, 1001)])
@pytest.mark.parametrize("target", [26, 100, 256])
def test_resized_size_is_torchvisions(size: tuple[int, int], target: int) -> None:
    image = torch.zeros((1, 1, *size), dtype=torch.uint8)
    resized = transforms_v2.functional.resize(image, [target], antialias=True)
    assert resized_size(*size, target) == tuple(resized.shape[-2:])


@pytest.mark.parametrize(
    ("spec", "size", "scale"),
    [
        (IMAGENET, (375, 500), 1),
        (IMAGENET, (1023, 1400), 1),  # short side under 4 x 256: 1/2 would leave under 512
        (IMAGENET, (1024, 1400), 2),
        (IMAGENET, (2047, 2047), 2),
        (IMAGENET, (2048, 3000), 4),
        (IMAGENET, (3000, 4000), 4),
        (IMAGENET, (6000, 4096), 8),
        (IMAGENET, (20000, 40000), 8),  # 1/8 at most
        (InputSpec(channels=3, height=224, width=224), (4000, 4000), 8),  # target 224
        (InputSpec(channels=3, height=224, width=224), (224, 4000), 1),  # crop only
        (InputSpec(channels=1, height=28, width=28), (8, 8), 1),  # enlarged
        (InputSpec(channels=1, height=28, width=28), (112, 200), 2),
    ],
)
def test_draft_scale_keeps_twice_the_target(
    spec: InputSpec, size: tuple[int, int], scale: int
) -> None:
    assert draft_scale(spec, *size) == scale


# --- draft mode within its tolerance ------------------------------------------------------------


def stray(exact: np.ndarray, draft: np.ndarray) -> dict[str, float]:
    diff = np.abs(exact.astype(np.int64) - draft.astype(np.int64)).astype(np.float64)
    mse = float((diff**2).mean())
    return {
        "mean_abs": float(diff.mean()),
        "p99_abs": float(np.percentile(diff, 99)),
        "psnr_db": 10 * np.log10(255**2 / mse) if mse else float("inf"),
    }


def assert_within_tolerance(path: Path, spec: InputSpec, scale: int) -> dict[str, float]:
    assert decode_file(path, spec=spec).scale == scale
    assert decode_file(path, spec=spec, draft=False).scale == 1
    exact = transform_file(path, spec, draft=False)
    found = stray(exact, transform_file(path, spec))
    assert found["mean_abs"] <= DRAFT_TOLERANCE["mean_abs"], found
    assert found["p99_abs"] <= DRAFT_TOLERANCE["p99_abs"], found
    assert found["psnr_db"] >= DRAFT_TOLERANCE["psnr_db"], found
    return found


@pytest.mark.parametrize("name", ["china.jpg", "flower.jpg"])
@pytest.mark.parametrize(("target", "scale"), [(100, 2), (50, 4), (26, 8)])
def test_draft_of_a_photograph_stays_within_tolerance(name: str, target: int, scale: int) -> None:
    found = assert_within_tolerance(PHOTOS / name, InputSpec(3, target, target), scale)
    assert found["mean_abs"] > 0  # the draft did change pixels: the tolerance was tested


@pytest.mark.parametrize(("size", "scale"), [((1500, 2000), 2), ((2448, 3264), 4)])
def test_draft_of_a_large_photo_at_imagenets_recipe(
    tmp_path: Path, size: tuple[int, int], scale: int
) -> None:
    path = save_jpeg(tmp_path / "big.jpg", photo(*size, seed=size[0]), quality=90)
    assert_within_tolerance(path, IMAGENET, scale)
    grey = InputSpec(channels=1, height=224, width=224, resize_short=256)
    assert_within_tolerance(path, grey, scale)


def test_a_draft_covers_the_picture_not_the_padding(tmp_path: Path) -> None:
    """375 rows at 1/4 are 94 rows, the last mostly padding: the resize must not stretch it in."""
    rows, cols = np.mgrid[0:375, 0:1001]
    ramp = np.stack([cols * 255 // 1001, rows * 255 // 375, (rows + cols) % 256], -1)
    path = save_jpeg(tmp_path / "ramp.jpg", Image.fromarray(ramp.astype(np.uint8)), quality=95)
    spec = InputSpec(channels=3, height=32, width=32)
    assert decode_file(path, spec=spec).pixels.shape[1:] == (94, 251)
    found = stray(transform_file(path, spec, draft=False), transform_file(path, spec))
    assert found["mean_abs"] < 0.5 and found["p99_abs"] <= 2, found
