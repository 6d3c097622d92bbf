"""Small images for the page: sample thumbnails, the filter grid, occlusion heat maps.

Everything is returned as base64 text ready for a ``data:`` URL, so the insights stay one JSON
object stored beside the score, readable with no media server and no extra request. Images are
kept at their own resolution (the page scales them up), which keeps the stored JSON small.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

THUMBNAIL_PNG_MAX = 64  # sides up to this are stored as lossless PNG, larger ones as JPEG
THUMBNAIL_SIDE = 128
HEAT_SIDE = 112  # heat maps are drawn at most this large; the browser scales them smoothly
# Yellow to dark red (ColorBrewer YlOrRd): light where little is lost, dark where much is.
_HEAT_COLOURS = np.array([[255, 237, 160], [254, 178, 76], [240, 59, 32], [128, 0, 38]], float)
HEAT_MAX_ALPHA = 0.85


def encode(pixels: np.ndarray, *, fmt: str = "PNG") -> str:
    """uint8 (H, W), (H, W, 3) or (H, W, 4) as base64 PNG (or JPEG)."""
    buffer = io.BytesIO()
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if fmt == "JPEG":
        image.save(buffer, format="JPEG", quality=88)
    else:
        image.save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def to_pixels(image: np.ndarray) -> np.ndarray:
    """uint8 (C, H, W) as PIL's layout: (H, W) for one channel, (H, W, 3) for three."""
    return image[0] if image.shape[0] == 1 else np.transpose(image, (1, 2, 0))


def thumbnail(image: np.ndarray) -> dict:
    """A sample image (uint8 C x H x W) as a data URL: small ones exact, large ones as JPEG."""
    pixels = to_pixels(image)
    height, width = pixels.shape[:2]
    if max(height, width) <= THUMBNAIL_PNG_MAX:
        return {"mime": "image/png", "data": encode(pixels), "width": width, "height": height}
    scale = THUMBNAIL_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(
        Image.fromarray(np.ascontiguousarray(pixels)).resize(size, Image.Resampling.LANCZOS)
    )
    return {
        "mime": "image/jpeg",
        "data": encode(small, fmt="JPEG"),
        "width": size[0],
        "height": size[1],
    }


def heat_rgba(values: np.ndarray, *, height: int, width: int) -> np.ndarray:
    """A (rows, cols) grid of 0..1 values as a smooth RGBA heat map, transparent where 0.

    Opacity follows the value, so the image shows through where hiding a region did not
    matter and disappears under dark red where it mattered most.
    """
    scale = min(1.0, HEAT_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    grid = Image.fromarray(np.asarray(values, dtype=np.float32))
    smooth = np.clip(np.asarray(grid.resize(size, Image.Resampling.BILINEAR)), 0.0, 1.0)
    rgba = np.empty((*smooth.shape, 4), dtype=np.uint8)
    rgba[..., :3] = np.rint(colour_map(smooth)).astype(np.uint8)
    rgba[..., 3] = np.rint(255 * HEAT_MAX_ALPHA * smooth).astype(np.uint8)
    return rgba


def colour_map(values: np.ndarray) -> np.ndarray:
    """0..1 to RGB (floats 0..255), piecewise linear through the heat colours."""
    stops = np.linspace(0.0, 1.0, len(_HEAT_COLOURS))
    return np.stack(
        [np.interp(values, stops, _HEAT_COLOURS[:, channel]) for channel in range(3)], axis=-1
    )


def heat_legend() -> list[str]:
    """CSS colours of the heat scale from 0 to 1, for the page's legend."""
    return [f"rgb({r:.0f}, {g:.0f}, {b:.0f})" for r, g, b in _HEAT_COLOURS]
