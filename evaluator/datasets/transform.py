"""Pixels to the declared input: convert channels, resize the short side, centre-crop.

The recipe is torchvision's evaluation transform (``Resize(short)`` then ``CenterCrop``,
bilinear with antialiasing), applied once at import so scoring only copies uint8 batches.
Array sources are transformed a whole batch at a time; decoded files (``decode``) in small
batches of one size. A draft-decoded JPEG is resized to the size its full-scale image would
have been, so the crop takes the same part of the picture.
"""

from __future__ import annotations

import platform

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
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


def resized_size(height: int, width: int, target: int) -> tuple[int, int]:
    """(h, w) after ``Resize(target)``: torchvision's rule, the long side scaled and truncated."""
    short, long = (width, height) if width <= height else (height, width)
    new_long = int(target * long / short)
    return (new_long, target) if width <= height else (target, new_long)


def native_uint8_resize() -> bool:
    """Whether this CPU resizes uint8 itself (AVX2, AVX-512, ARM): torchvision's own test."""
    capability = torch.backends.cpu.get_cpu_capability()
    return capability in ("AVX2", "AVX512") or platform.machine() in ("aarch64", "arm64")


def resize_span(batch: torch.Tensor, size: list[int], span: tuple[float, float]) -> torch.Tensor:
    """Antialiased bilinear resize of the top-left ``span`` (h, w) of ``batch``, in pixels.

    A draft-decoded JPEG of 375 rows at 1/2 scale has 188 rows, the last one half past the
    picture: ``span`` (187.5, ...) makes the output cover exactly the picture, as the full-scale
    resize does (the kernel's scales, ``output / span``, set where each output pixel samples).
    """
    scales = (size[0] / span[0], size[1] / span[1])
    if batch.dtype == torch.uint8 and not native_uint8_resize():
        resized = torch.ops.aten._upsample_bilinear2d_aa(batch.float(), size, False, *scales)
        return resized.round_().clamp_(0, 255).to(torch.uint8)
    return torch.ops.aten._upsample_bilinear2d_aa(batch, size, False, *scales)


def needs_resize(spec: InputSpec, height: int, width: int) -> bool:
    return short_side_target(spec, height, width) is not None


def convert_channels(batch: torch.Tensor, channels: int) -> torch.Tensor:
    """Grey -> RGB by repeating the plane; RGB -> grey with torchvision's luma weights."""
    if batch.shape[-3] == channels:
        return batch
    if channels == 3:
        return batch.expand(*batch.shape[:-3], 3, *batch.shape[-2:])
    return F.rgb_to_grayscale(batch, num_output_channels=1)


def to_spec(
    batch: torch.Tensor,
    spec: InputSpec,
    *,
    source_size: tuple[int, int] | None = None,
    scale: int = 1,
) -> torch.Tensor:
    """uint8 (B, C, h, w) -> uint8 (B, spec.channels, spec.height, spec.width).

    Where the batch was decoded at 1/``scale`` (JPEG draft), ``source_size`` is the images'
    full-scale (h, w): the resize and crop are those of the full-scale images.
    """
    shrinking = batch.shape[-3] > spec.channels
    if shrinking:
        batch = convert_channels(batch, spec.channels)
    height, width = source_size or (batch.shape[-2], batch.shape[-1])
    target = short_side_target(spec, height, width)
    if target is not None:
        size = list(resized_size(height, width, target))
        if scale == 1:
            batch = F.resize(batch, size, interpolation=InterpolationMode.BILINEAR, antialias=True)
        else:
            batch = resize_span(batch, size, (height / scale, width / scale))
    if tuple(batch.shape[-2:]) != (spec.height, spec.width):
        batch = F.center_crop(batch, [spec.height, spec.width])
    if not shrinking:
        batch = convert_channels(batch, spec.channels)
    return batch


def transform_pixels(pixels: np.ndarray, spec: InputSpec) -> np.ndarray:
    """A batch of uint8 (B, C, h, w) source pixels at the spec's channels and size."""
    tensor = torch.from_numpy(np.array(pixels, dtype=np.uint8))  # a copy: sources are read-only
    return to_spec(tensor, spec).numpy()
