"""The torch side of the robustness catalogue: apply a transform to uint8 images.

Each ``Transform.op`` of ``evaluator.robustness.transforms`` names one function here, called
with the transform's ``params``. Parameters are in pixels and grey levels of the compiled input;
geometric transforms keep the size (what leaves the frame is cut, what enters is black).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torchvision.transforms.v2.functional as F
from torchvision.transforms import InterpolationMode

from evaluator.robustness.transforms import get


def _rotate(images: torch.Tensor, *, degrees: float) -> torch.Tensor:
    # Counter-clockwise about the centre; a multiple of 90 degrees is exact on square images.
    return F.rotate(images, degrees, interpolation=InterpolationMode.BILINEAR, fill=0.0)


def _scale(images: torch.Tensor, *, factor: float) -> torch.Tensor:
    """Resize by ``factor`` (antialiased bilinear), then centre-crop or pad back to H x W."""
    height, width = images.shape[-2:]
    size = [max(1, round(height * factor)), max(1, round(width * factor))]
    resized = F.resize(images, size, interpolation=InterpolationMode.BILINEAR, antialias=True)
    return F.center_crop(resized, [height, width])  # pads with 0 when smaller


def _brightness(images: torch.Tensor, *, factor: float) -> torch.Tensor:
    return F.adjust_brightness(images, factor)  # min(255, floor(x * factor))


def _contrast(images: torch.Tensor, *, factor: float) -> torch.Tensor:
    return F.adjust_contrast(images, factor)  # blend with each image's mean grey level


def blur_kernel_size(*, sigma: float, height: int, width: int) -> int:
    """2 * ceil(3 sigma) + 1 (99.7% of the mass), kept odd and below twice the image's side."""
    size = 2 * math.ceil(3 * sigma) + 1
    limit = 2 * min(height, width) - 1  # reflect padding needs pad < side
    return min(size, limit if limit % 2 else limit - 1)


def _blur(images: torch.Tensor, *, sigma: float) -> torch.Tensor:
    k = blur_kernel_size(sigma=sigma, height=images.shape[-2], width=images.shape[-1])
    return F.gaussian_blur(images, kernel_size=[k, k], sigma=[sigma, sigma])


def _noise(images: torch.Tensor, *, sigma: float, seed: int, first_index: int) -> torch.Tensor:
    """x + N(0, (255 sigma)^2) per pixel, rounded and clipped to 0..255.

    Not ``F.gaussian_noise``: it draws from torch's global generator (no per-image seed) and
    truncates towards zero instead of rounding. Here image i's noise comes from numpy's PCG64
    seeded with the entropy (seed, i) (a SeedSequence: every seed bit counts, whereas torch's
    CPU generator keeps only the low 32 bits of its seed): the same bytes whatever the batching.
    """
    out = torch.empty_like(images)
    shape = tuple(images.shape[1:])
    for offset in range(len(images)):
        z = np.random.default_rng([seed, first_index + offset]).standard_normal(
            shape, dtype=np.float32
        )
        noisy = images[offset].float() + torch.from_numpy(z) * (255.0 * sigma)
        out[offset] = noisy.round_().clamp_(0, 255).to(torch.uint8)
    return out


def _hflip(images: torch.Tensor) -> torch.Tensor:
    return F.horizontal_flip(images)


_OPS: dict[str, Callable[..., torch.Tensor]] = {
    "rotate": _rotate,
    "scale": _scale,
    "brightness": _brightness,
    "contrast": _contrast,
    "blur": _blur,
    "noise": _noise,
    "hflip": _hflip,
}


def apply(name: str, images: torch.Tensor, *, first_index: int = 0) -> torch.Tensor:
    """Transform uint8 (B, C, H, W) ``images``; ``first_index`` is images[0]'s index in the set.

    The index only matters for noise, whose per-image seed it is part of.
    """
    transform = get(name)
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(f"expected uint8 (B, C, H, W), got {images.dtype} {tuple(images.shape)}")
    extra = {"first_index": first_index} if transform.op == "noise" else {}
    return _OPS[transform.op](images, **transform.params, **extra).contiguous()


def apply_numpy(name: str, images: np.ndarray, *, first_index: int = 0) -> np.ndarray:
    """``apply`` on a uint8 numpy array (read-only memory maps included); returns a new array."""
    tensor = torch.from_numpy(np.array(images, dtype=np.uint8))  # a copy: sources are read-only
    return apply(name, tensor, first_index=first_index).numpy()
