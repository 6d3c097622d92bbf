"""Reads for "What the network sees": the worker's sample batch, and the page's panels.

The worker gets a challenge's public sample images (training split) as one uint8 array at the
challenge's input spec. The page gets the stored insights shaped for the template, plus the
confusion matrix as a heat map, under the page's own rule: public part while the edition runs,
all of it once it has closed.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.utils import timezone
from PIL import Image

from leaderboard.models import Challenge, SampleImage, Score, Submission

HEAT_RGB = (47, 91, 234)  # the site's accent colour
HEAT_MAX_ALPHA = 0.7  # #1d2330 text on the darkest shade: 5.0:1
PIXELATED_MAX = 64  # images this small are scaled up with hard pixel edges, not blurred


@dataclass(frozen=True)
class InsightSamples:
    """Plain values for the evaluator: no ORM objects cross into the worker's call."""

    images: np.ndarray  # uint8 (N, C, H, W)
    labels: list[int]
    class_names: list[str]
    spec: dict
    sample_ids: list[int] = field(default_factory=list)  # the SampleImage rows, in order


def insight_samples(*, submission_id: uuid.UUID | str, limit: int) -> InsightSamples | None:
    """The first ``limit`` sample images of the submission's challenge that match its input.

    None when the challenge has none (the panels are then simply not computed).
    """
    submission = (
        Submission.objects.select_related("edition__challenge").filter(pk=submission_id).first()
    )
    if submission is None:
        return None
    return challenge_samples(challenge=submission.edition.challenge, limit=limit)


def challenge_samples(*, challenge: Challenge, limit: int) -> InsightSamples | None:
    """The challenge's first ``limit`` public sample images (training split) that match its
    input spec, decoded for a model run; shared by the insights panels and model checks.

    None when there is none to run on.
    """
    spec = challenge.input_spec or {}
    names = list(challenge.class_names)
    if not spec or not names:
        return None
    shape = (int(spec["channels"]), int(spec["height"]), int(spec["width"]))
    images, labels, ids = [], [], []
    for sample in SampleImage.objects.filter(challenge=challenge).order_by("position", "id"):
        array = _decode(sample, shape=shape)
        if array is not None and sample.label < len(names):
            images.append(array)
            labels.append(int(sample.label))
            ids.append(sample.pk)
        if len(images) == limit:
            break
    if not images:
        return None
    return InsightSamples(
        images=np.stack(images), labels=labels, class_names=names, spec=spec, sample_ids=ids
    )


def _decode(sample: SampleImage, *, shape: tuple[int, int, int]) -> np.ndarray | None:
    """One stored PNG as uint8 (C, H, W), or None when unreadable or not the challenge's size."""
    channels, height, width = shape
    try:
        with sample.image.open("rb") as f, Image.open(io.BytesIO(f.read())) as image:
            pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    except (OSError, ValueError):
        return None
    if pixels.shape[:2] != (height, width):
        return None
    return pixels[None] if channels == 1 else np.ascontiguousarray(pixels.transpose(2, 0, 1))


@dataclass
class InsightsPanels:
    """What ``_insights.html`` renders; every list may be empty and every panel absent."""

    computed: bool = False  # whether the worker stored insights for this submission
    error: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)
    filters: dict | None = None
    occlusion: list[dict] = field(default_factory=list)
    confusion: dict | None = None
    per_class: list[tuple[str, float | None]] = field(default_factory=list)
    part: str = "public"
    heat_legend: list[str] = field(default_factory=list)  # CSS colours, no loss to all lost


def submission_insights(
    *, record: dict, class_names: list[str], show_private: bool
) -> InsightsPanels:
    """The panels of one scored submission's page from its stored record."""
    prefix = "" if show_private else "public_"
    panels = InsightsPanels(part="all" if show_private else "public")
    panels.per_class = [
        (_name(class_names, i), value)
        for i, value in enumerate(record.get(f"{prefix}per_class_accuracy") or [])
    ]
    panels.confusion = _confusion(
        record.get(f"{prefix}confusion_matrix"), class_names, [a for _, a in panels.per_class]
    )
    stored = record.get("insights")
    if not isinstance(stored, dict):
        return panels
    panels.computed = True
    panels.error = str(stored.get("error") or "")
    panels.errors = {str(k): str(v) for k, v in (stored.get("errors") or {}).items()}
    panels.samples = [_sample(entry) for entry in stored.get("samples") or []]
    filters = stored.get("filters")
    panels.filters = {**filters, "src": _src("image/png", filters["png"])} if filters else None
    panels.occlusion = [_occluded(entry) for entry in stored.get("occlusion") or []]
    panels.heat_legend = [str(colour) for colour in stored.get("heat_legend") or []]
    return panels


def _src(mime: str, data: str) -> str:
    return f"data:{mime};base64,{data}"


def _sample(entry: dict) -> dict:
    image = entry["image"]
    label = entry["label"]
    guesses = [
        {
            "name": guess["name"],
            "pct": 100.0 * guess["prob"],
            "is_true": guess["class"] == label,
        }
        for guess in entry.get("guesses") or []
    ]
    return {
        "src": _src(image["mime"], image["data"]),
        "pixelated": image["width"] <= PIXELATED_MAX,
        "label_name": entry["label_name"],
        "guesses": guesses,
        "true_rank": entry.get("true_rank"),
        "true_pct": None if entry.get("true_prob") is None else 100.0 * entry["true_prob"],
        "in_top": any(guess["is_true"] for guess in guesses),
    }


def _occluded(entry: dict) -> dict:
    image = entry["image"]
    return {
        "src": _src(image["mime"], image["data"]),
        "pixelated": image["width"] <= PIXELATED_MAX,
        "heat_src": _src("image/png", entry["heat_png"]),
        "label_name": entry["label_name"],
        "base_pct": 100.0 * entry["base_prob"],
        "min_pct": 100.0 * entry["min_prob"],
        "grid": entry["grid"],
    }


def _name(names: list[str], index: int) -> str:
    return names[index] if index < len(names) else str(index)


def _confusion(matrix: list | None, names: list[str], accuracy: list) -> dict | None:
    """Rows shaded by the share of the true class's images each column received."""
    if not matrix or len(matrix) > 100:
        return None  # absent, or too large to read as a table
    rows = []
    for i, counts in enumerate(matrix):
        total = sum(counts) or 1
        cells = [
            {
                "value": v,
                "diag": i == j,
                "title": f"{_name(names, i)} seen as {_name(names, j)}: {v / total:.1%} of the row",
                **_cell_colour(v / total),
            }
            for j, v in enumerate(counts)
        ]
        shown = accuracy[i] if i < len(accuracy) else None
        rows.append({"name": _name(names, i), "cells": cells, "accuracy": shown})
    return {"names": [_name(names, i) for i in range(len(matrix))], "rows": rows}


def _cell_colour(share: float) -> dict[str, str]:
    """The accent at up to HEAT_MAX_ALPHA over white: the page's dark text stays readable on
    every shade (4.5:1 or more, WCAG AA), so no cell needs white text."""
    r, g, b = HEAT_RGB
    alpha = round(HEAT_MAX_ALPHA * share, 3)
    return {
        "background": f"rgba({r}, {g}, {b}, {alpha})" if share > 0 else "transparent",
        "color": "inherit",
    }


# The worker records the panels after the score, within its time limit for them; past this
# margin a score without panels will not get any.
PENDING_MARGIN = dt.timedelta(seconds=60)


def insights_pending(
    *, score: Score | None, challenge: Challenge, now: dt.datetime | None = None
) -> bool:
    """Whether the worker is likely still computing this score's panels: they are on, the
    challenge has sample images, and the score was recorded within their time limit. The page
    then says so and waits for them, instead of saying they were not computed."""
    if score is None or isinstance(score.record.get("insights"), dict):
        return False
    limit = float(settings.INSIGHTS_TIMEOUT_S)
    if limit <= 0:
        return False
    waited = (now or timezone.now()) - score.created_at
    if waited > dt.timedelta(seconds=limit) + PENDING_MARGIN:
        return False
    return SampleImage.objects.filter(challenge=challenge).exists()
