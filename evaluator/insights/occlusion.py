"""Occlusion sensitivity (Zeiler & Fergus, ECCV 2014): hide one square at a time, watch the score.

A grey square, the challenge's mean colour (so it normalises to exactly zero), slides over the
image on a regular grid of positions. The sandboxed child runs the model on every occluded copy;
the trusted parent reads the true class's probability at each position and turns the drop into a
heat map. Both sides take the geometry from ``occlusion_grid`` so they agree on what was hidden.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from evaluator.spec import InputSpec

SMALL_IMAGE = 64  # images up to this side get a 7x7 grid (28 px: 4 px steps), larger ones 14x14


@dataclass(frozen=True)
class OcclusionGrid:
    """``rows`` x ``cols`` positions; at each, a ``patch``-sided square centred on its cell."""

    height: int
    width: int
    rows: int
    cols: int
    patch: int

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) of the square at one position, clipped to the image."""
        return (
            *_span(row, self.rows, self.height, self.patch),
            *_span(col, self.cols, self.width, self.patch),
        )

    @property
    def positions(self) -> int:
        return self.rows * self.cols

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> OcclusionGrid:
        return cls(**{key: int(d[key]) for key in ("height", "width", "rows", "cols", "patch")})


def occlusion_grid(*, height: int, width: int) -> OcclusionGrid:
    """7x7 positions on small images, 14x14 on ImageNet-sized ones; squares twice a step wide.

    Twice the step makes neighbouring squares overlap by half, as in Zeiler & Fergus's figure,
    so no object part falls between two positions.
    """
    side = 7 if max(height, width) <= SMALL_IMAGE else 14
    rows, cols = min(side, height), min(side, width)
    patch = max(1, math.ceil(2 * max(height / rows, width / cols)))
    return OcclusionGrid(height=height, width=width, rows=rows, cols=cols, patch=patch)


def fill_colour(spec: InputSpec) -> np.ndarray:
    """The mean colour as uint8 per channel: the grey that normalisation maps to zero."""
    return np.clip(np.rint(np.asarray(spec.mean) * 255.0), 0, 255).astype(np.uint8)


def occluded_copies(image: np.ndarray, *, grid: OcclusionGrid, fill: np.ndarray) -> np.ndarray:
    """uint8 (positions, C, H, W): ``image`` (C, H, W) with one square hidden in each copy."""
    channels = image.shape[0]
    copies = np.repeat(image[None], grid.positions, axis=0)
    colour = np.asarray(fill, dtype=np.uint8).reshape(channels, 1, 1)
    for row in range(grid.rows):
        for col in range(grid.cols):
            top, bottom, left, right = grid.box(row, col)
            copies[row * grid.cols + col, :, top:bottom, left:right] = colour
    return copies


def probability_drop(*, base: float, occluded: np.ndarray) -> np.ndarray:
    """Share of the true class's probability lost at each position, in 0..1 (0: no effect).

    Relative to the unoccluded probability, so a heat map reads the same for a confident and a
    hesitant model; a position where hiding raises the probability counts as no loss.
    """
    if not base > 0:
        return np.zeros_like(occluded, dtype=np.float64)
    return np.clip((base - occluded) / base, 0.0, 1.0)


def _span(index: int, count: int, size: int, patch: int) -> tuple[int, int]:
    centre = (index + 0.5) * size / count
    start = round(centre - patch / 2)
    return max(0, start), min(size, start + patch)
