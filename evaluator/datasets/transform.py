"""Pixels to the declared input: decode, convert channels, resize the short side, centre-crop.

The recipe is torchvision's evaluation transform (``Resize(short)`` then ``CenterCrop``,
bilinear with antialiasing), applied once at import so scoring only copies uint8 batches.
Array sources are transformed a whole batch at a time; files are decoded with PIL one by one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
from PIL import Image
from torchvision.transforms import InterpolationMode

from evaluator.spec import InputSpec


def short_side_target(spec: InputSpec, height: int, width: int) -> int | None:
    """The length to resize the short side to, or None when no resize is needed.

    ``resize_short`` when the spec sets it (the ImageNet recipe: 256 then crop 224); otherwise
    images already at height x width are kept, and others get their short side resized to
    max(height, width), so that the centre crop never needs padding.
    """
    target = spec.resize_short
    if target is None:
        if (height, width) == (spec.height, spec.width):
            return None
        target = max(spec.height, spec.width)
    return None if min(height, width) == target else target


def needs_resize(spec: InputSpec, height: int, width: int) -> bool:
    return short_side_target(spec, height, width) is not None


def convert_channels(batch: torch.Tensor, channels: int) -> torch.Tensor:
    """Grey -> RGB by repeating the plane; RGB -> grey with torchvision's luma weights."""
    if batch.shape[-3] == channels:
        return batch
    if channels == 3:
        return batch.expand(*batch.shape[:-3], 3, *batch.shape[-2:])
    return F.rgb_to_grayscale(batch, num_output_channels=1)


def to_spec(batch: torch.Tensor, spec: InputSpec) -> torch.Tensor:
    """uint8 (B, C, h, w) -> uint8 (B, spec.channels, spec.height, spec.width)."""
    shrinking = batch.shape[-3] > spec.channels
    if shrinking:
        batch = convert_channels(batch, spec.channels)
    target = short_side_target(spec, batch.shape[-2], batch.shape[-1])
    if target is not None:
        batch = F.resize(batch, [target], interpolation=InterpolationMode.BILINEAR, antialias=True)
    if tuple(batch.shape[-2:]) != (spec.height, spec.width):
        batch = F.center_crop(batch, [spec.height, spec.width])
    if not shrinking:
        batch = convert_channels(batch, spec.channels)
    return batch


def transform_pixels(pixels: np.ndarray, spec: InputSpec) -> np.ndarray:
    """A batch of uint8 (B, C, h, w) source pixels at the spec's channels and size."""
    tensor = torch.from_numpy(np.array(pixels, dtype=np.uint8))  # a copy: sources are read-only
    return to_spec(tensor, spec).numpy()


def decode_image(path: Path, *, channels: int) -> np.ndarray:
    """One image file as uint8 (C, h, w), converted by PIL to grey ("L") or RGB.

    Raises whatever PIL raises on a corrupt or truncated file; the caller names the file.
    EXIF orientation is ignored, as torchvision's ImageFolder loader does.
    """
    with Image.open(path) as img:
        converted = img.convert("L" if channels == 1 else "RGB")
    array = np.array(converted, dtype=np.uint8)  # writable, so torch can take it as is
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def transform_file(path: Path, spec: InputSpec) -> np.ndarray:
    """One image file at the spec's channels and size, uint8 (C, H, W)."""
    tensor = torch.from_numpy(np.ascontiguousarray(decode_image(path, channels=spec.channels)))
    return to_spec(tensor[None], spec)[0].numpy()
