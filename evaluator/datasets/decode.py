"""Image files to uint8 pixels: JPEGs through libjpeg-turbo in torchvision, the rest through PIL.

``torchvision.io``'s JPEG decoder releases the GIL and hands back a tensor without PIL's
copies, so threads decode in parallel. Its pixels are PIL's, bit for bit (the same
libjpeg-turbo settings: accurate integer IDCT, fancy upsampling; tests compare every kind of
JPEG), so sets imported before it keep their fingerprints. Only 8-bit, 1- or 3-component,
Huffman-coded JPEGs take it; anything else (CMYK, 12-bit, lossless, arithmetic coding, PNG
named .jpg...) and any JPEG that it refuses is decoded by PIL exactly as before, so a broken
file fails with PIL's message.

Draft mode: a large JPEG is decoded at 1/2, 1/4 or 1/8 scale by libjpeg-turbo's scaled IDCT
(PIL's ``draft``), the largest reduction that still leaves its short side at least twice the
resize target (Pillow's ``reducing_gap=2``), and the antialiased resize finishes from there,
over the picture's exact span. A 2000x1500 set imports 1.7 times faster for it (CPU time,
``python -m evaluator.bench.imports --size 2000x1500``); pixels change a little
(``DRAFT_TOLERANCE``), so a set with any draft-decoded image says so with
``layout.DRAFT_FORMAT_VERSION``. Reducing further, down to the target itself, strays several
times more (p99 up to 18 levels on a photograph).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchvision.io  # noqa: F401  (loads torchvision's image ops: torch.ops.image)
from PIL import Image

from evaluator.datasets.transform import short_side_target, to_spec
from evaluator.spec import InputSpec

JPEG_START = b"\xff\xd8\xff"
# Frame headers (SOFn): every C0..CF marker but DHT (C4), JPG (C8) and DAC (CC).
FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Baseline, extended sequential and progressive, Huffman-coded: what torchvision's decoder is
# tested against PIL on. Lossless, hierarchical and arithmetic-coded frames go to PIL.
TORCHVISION_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
# Markers without a length field: TEM, RST0..RST7, SOI.
STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8), 0xD8})
RGB_MODE = 3  # torchvision.io.ImageReadMode.RGB


def torchvision_decoder() -> Callable[..., torch.Tensor] | None:
    """torchvision.io.decode_jpeg's CPU op, called directly to skip the deprecation notice it
    gives on every call since torchvision 0.29; None where the image extension did not load
    (or a later torchvision drops it): PIL then decodes every JPEG, to the same pixels."""
    try:
        return torch.ops.image.decode_jpeg
    except (AttributeError, RuntimeError):
        return None


DECODE_JPEG = torchvision_decoder()
DRAFT_SCALES = (8, 4, 2)
DRAFT_MARGIN = 2  # the draft-decoded short side stays at least this many times the target
# How far draft-decoded pixels may stray from the exact path's on a photograph (uint8 levels):
# what tests/evaluator/test_datasets_decode.py holds every draft scale to.
DRAFT_TOLERANCE = {"mean_abs": 1.0, "p99_abs": 6, "psnr_db": 44.0}


@dataclass(frozen=True)
class JpegFrame:
    """What a JPEG's frame header says: enough to choose the decoder and the draft scale."""

    marker: int
    precision: int
    height: int
    width: int
    components: int


@dataclass(frozen=True)
class Decoded:
    """One image: uint8 (C, h, w) pixels, and the full size the resize is computed from."""

    pixels: torch.Tensor
    size: tuple[int, int]  # (height, width) of the image at full scale
    scale: int = 1  # 2, 4 or 8 where the JPEG was draft-decoded


def jpeg_frame(data: bytes | bytearray) -> JpegFrame | None:
    """The frame header of a JPEG, or None for anything that does not start like one."""
    if not data.startswith(JPEG_START):
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker in STANDALONE_MARKERS:
            pos += 2
        elif marker in FRAME_MARKERS:
            if pos + 10 > len(data):
                return None
            return JpegFrame(
                marker=marker,
                precision=data[pos + 4],
                height=int.from_bytes(data[pos + 5 : pos + 7], "big"),
                width=int.from_bytes(data[pos + 7 : pos + 9], "big"),
                components=data[pos + 9],
            )
        elif marker in (0xD9, 0xDA):  # end of image, or a scan before any frame header
            return None
        else:
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if length < 2:
                return None
            pos += 2 + length
    return None


def for_torchvision(frame: JpegFrame | None) -> bool:
    return (
        DECODE_JPEG is not None
        and frame is not None
        and frame.marker in TORCHVISION_FRAMES
        and frame.precision == 8
        and frame.components in (1, 3)
        and frame.height > 0
        and frame.width > 0
    )


def draft_scale(spec: InputSpec, height: int, width: int) -> int:
    """The largest of 8, 4, 2 whose scaled short side is at least twice the target, else 1.

    The target is the short side the resize makes (``short_side_target``: ``resize_short``,
    or the spec's longer side); so with ImageNet's 256, JPEGs from 1024 pixels up qualify.
    """
    target = short_side_target(spec, height, width)
    if target is None:
        return 1
    short = min(height, width)
    return next((s for s in DRAFT_SCALES if short // s >= DRAFT_MARGIN * target), 1)


def luma(rgb: torch.Tensor) -> torch.Tensor:
    """PIL's RGB -> L bit for bit (ITU-R 601-2 weights, 16-bit fixed point): 3 -> 1 channel."""
    r, g, b = rgb.to(torch.int32).unbind(-3)
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).to(torch.uint8).unsqueeze(-3)


def decode_with_pil(path: Path, *, channels: int, scale: int = 1) -> Decoded:
    """PIL's decode, converted to grey ("L") or RGB; ``scale`` > 1 draft-decodes a JPEG.

    Raises whatever PIL raises on a corrupt or truncated file; the caller names the file.
    EXIF orientation is ignored, as torchvision's ImageFolder loader does.
    """
    with Image.open(path) as img:
        size = (img.height, img.width)
        if scale > 1 and img.format == "JPEG":
            img.draft(None, (img.width // scale, img.height // scale))
        converted = img.convert("L" if channels == 1 else "RGB")
    array = np.array(converted, dtype=np.uint8)  # writable, so torch can take it as is
    pixels = torch.from_numpy(array[None] if array.ndim == 2 else array.transpose(2, 0, 1))
    return Decoded(pixels=pixels, size=size, scale=scale if array.shape[:2] != size else 1)


def decode_file(path: Path, *, spec: InputSpec, draft: bool = True) -> Decoded:
    """One image file at ``spec.channels``: full size, unless ``draft`` allows a scaled JPEG."""
    with open(path, "rb") as file:
        start = file.read(len(JPEG_START))
        if start != JPEG_START:  # PNG and the rest: PIL reads the file itself
            return decode_with_pil(path, channels=spec.channels)
        data = bytearray(start + file.read())  # writable, so torch can take it as is
    frame = jpeg_frame(data)
    if not for_torchvision(frame):
        return decode_with_pil(path, channels=spec.channels)
    assert frame is not None and DECODE_JPEG is not None
    size = (frame.height, frame.width)
    scale = draft_scale(spec, *size) if draft else 1
    if scale > 1:
        return decode_with_pil(path, channels=spec.channels, scale=scale)
    try:
        rgb = DECODE_JPEG(torch.frombuffer(data, dtype=torch.uint8), RGB_MODE, False)
    except RuntimeError:  # truncated, corrupt, or a kind it does not take: PIL decides
        return decode_with_pil(path, channels=spec.channels)
    return Decoded(pixels=luma(rgb) if spec.channels == 1 else rgb, size=size)


def transform_file(path: Path, spec: InputSpec, *, draft: bool = True) -> np.ndarray:
    """One image file at the spec's channels and size, uint8 (C, H, W)."""
    decoded = decode_file(path, spec=spec, draft=draft)
    batch = decoded.pixels[None]
    return to_spec(batch, spec, source_size=decoded.size, scale=decoded.scale)[0].numpy()
