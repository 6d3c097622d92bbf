"""The insights panels, drawn by the trusted parent from the checked arrays the child returned.

- samples: top-5 guesses with softmax confidences (AlexNet's Figure 4);
- filters: the first convolution's weights as an image grid (AlexNet's Figure 3);
- occlusion: the drop of the true class's probability under a grey patch at each position of a
  grid, as a heat map (Zeiler & Fergus, ECCV 2014, Figure 7).
"""

from __future__ import annotations

import numpy as np

from evaluator.insights.filters import FirstConv, filter_grid
from evaluator.insights.occlusion import OcclusionGrid, probability_drop
from evaluator.insights.render import encode, heat_rgba, thumbnail
from evaluator.metrics import true_class_rank

TOP_K = 5
FILTER_GRID_PX = 360  # the filter grid is scaled up by a whole factor to about this width
FILTER_MAX_WIDTH_PX = 640
# Each heat map is scaled to its own largest loss, as in Zeiler & Fergus's figure, so a confident
# model's map still shows where it looks; below this loss nothing is stretched into colour.
HEAT_FLOOR = 0.02


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64; a row holding NaN or infinity becomes all NaN."""
    x = logits.astype(np.float64)
    finite = np.isfinite(x).all(axis=1, keepdims=True)
    x = np.where(finite, x, 0.0)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return np.where(finite, e / e.sum(axis=1, keepdims=True), np.nan)


def top_k(probs: np.ndarray, k: int) -> list[int]:
    """Indices of the k largest probabilities; ties go to the lower class index (as in scoring)."""
    return [int(i) for i in np.lexsort((np.arange(len(probs)), -probs))[:k]]


def samples_panel(
    *,
    samples: np.ndarray,
    labels: np.ndarray,
    logits: np.ndarray | None,
    probs: np.ndarray | None,
    class_names: list[str],
) -> list[dict]:
    """Each sample's thumbnail, top-k guesses and the true class's probability and rank."""
    k = min(TOP_K, len(class_names))
    ranks = true_class_rank(logits, labels) if logits is not None else None
    panel = []
    for i, (image, label) in enumerate(zip(samples, labels, strict=True)):
        entry: dict = {
            "label": int(label),
            "label_name": class_names[label],
            "image": thumbnail(image),
            "guesses": [],
            "true_prob": None,
            "true_rank": None,
        }
        if probs is not None and ranks is not None and np.isfinite(probs[i]).all():
            entry["guesses"] = [
                {"class": c, "name": class_names[c], "prob": float(probs[i, c])}
                for c in top_k(probs[i], k)
            ]
            entry["true_prob"] = float(probs[i, label])
            entry["true_rank"] = int(ranks[i])
        panel.append(entry)
    return panel


def occlusion_panel(
    *,
    occlusion: np.ndarray | None,
    reason: str | None,
    probs: np.ndarray | None,
    samples: np.ndarray,
    labels: np.ndarray,
    grid: OcclusionGrid,
    indices: list[int],
    class_names: list[str],
    errors: dict[str, str],
) -> list[dict]:
    """A heat map per occluded sample the child finished; ``reason`` says why it stopped."""
    done = 0 if occlusion is None or probs is None else len(occlusion)
    if done < len(indices):
        reason = reason or "the model returned no scores for the occluded images"
        errors["occlusion"] = f"{done} of {len(indices)} images done: {reason}"
    panel = []
    for j in range(done):
        i = indices[j]
        label, base = int(labels[i]), float(probs[i, labels[i]])
        occluded = softmax(occlusion[j])[:, label].reshape(grid.rows, grid.cols)
        if not (np.isfinite(base) and np.isfinite(occluded).all()):
            errors["occlusion"] = "the model's scores for an occluded image are not finite"
            continue
        drop = probability_drop(base=base, occluded=occluded)
        peak = float(drop.max())
        heat = heat_rgba(drop / max(peak, HEAT_FLOOR), height=grid.height, width=grid.width)
        panel.append(
            {
                "sample": i,
                "label": label,
                "label_name": class_names[label],
                "image": thumbnail(samples[i]),
                "grid": grid.to_dict(),
                "base_prob": base,
                "min_prob": float(occluded.min()),
                "drop": np.round(drop, 4).tolist(),
                "peak_drop": peak,
                "heat_png": encode(heat),
            }
        )
    return panel


def filters_panel(conv: FirstConv) -> dict:
    """The first convolution's filters as one PNG grid, with its size scaled for display."""
    tiles = filter_grid(conv.weight)
    height, width = tiles.image.shape[:2]
    out_channels, in_channels, kh, kw = conv.weight.shape
    scale = max(1, min(round(FILTER_GRID_PX / width), FILTER_MAX_WIDTH_PX // width))
    return {
        "name": conv.name,
        "shape": [out_channels, in_channels, kh, kw],
        "shown": tiles.shown,
        "rows": tiles.rows,
        "cols": tiles.cols,
        "colour": in_channels == 3,
        "png": encode(tiles.image),
        "width": width,
        "height": height,
        "display_width": width * scale,
        "display_height": height * scale,
    }
