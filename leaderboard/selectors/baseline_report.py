"""The baselines of an edition as measured: clean and robust errors, size, training run.

Everything comes from what the platform stored: the score the worker recorded (errors over all
of the hidden set, the evaluator's parameter count, the robustness report when the track ran)
and the training run: its ``meta.json`` in the baseline cache (time, device, epochs), or for
shipped weights their record (``baselines/weights/<arch>.json``). It backs
``manage.py baselines_report``, which prints the README's baseline tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from baselines import shipped
from leaderboard.models import Edition, Submission

META_FILE = "meta.json"  # written by baselines.pipeline beside the exported files


@dataclass(frozen=True)
class BaselineRow:
    method_name: str
    year: int | None
    status: str
    top1: float | None = None
    top5: float | None = None
    params: int | None = None
    robust_top1: float | None = None  # mean over the corruptions (the flip excluded)
    robust_increase: float | None = None  # relative to the clean top-1 error
    transforms: dict[str, float | None] = field(default_factory=dict)  # top-1 per transform
    training: dict = field(default_factory=dict)  # the cache entry's meta.json, if found
    throughput: float | None = None  # images per second, measured by the scoring run
    shipped: bool = False  # the weights shipped with the code (not trained on this site)


def edition_baseline_report(*, edition: Edition, cache_root: Path) -> list[BaselineRow]:
    """One row per live baseline entry of ``edition``, in year order (then method name)."""
    submissions = (
        Submission.objects.filter(edition=edition, is_baseline=True)
        .exclude(status=Submission.Status.FAILED)
        .select_related("score")
        .order_by("method_year", "method_name", "created_at")
    )
    return [_row(s, cache_root=cache_root) for s in submissions]


def _row(submission: Submission, *, cache_root: Path) -> BaselineRow:
    training = _training_meta(submission, cache_root=cache_root)
    from_shipped = not training and bool(training := _shipped_meta(submission))
    score = getattr(submission, "score", None) if submission.status == "scored" else None
    if score is None:
        return BaselineRow(
            method_name=submission.method_name,
            year=submission.method_year,
            status=submission.status,
            training=training,
            shipped=from_shipped,
        )
    robust = score.record.get("robustness") if isinstance(score.record, dict) else None
    summary = ((robust or {}).get("summary") or {}).get("all") or {}
    results = (robust or {}).get("results") or {}
    return BaselineRow(
        method_name=submission.method_name,
        year=submission.method_year,
        status=submission.status,
        top1=score.top1_error,
        top5=score.top5_error,
        params=score.record.get("params"),
        robust_top1=summary.get("mean_top1_error"),
        robust_increase=summary.get("relative_increase"),
        transforms={
            name: (parts.get("all") or {}).get("top1_error") for name, parts in results.items()
        },
        training=training,
        throughput=score.record.get("throughput_img_s"),
        shipped=from_shipped,
    )


def _training_meta(submission: Submission, *, cache_root: Path) -> dict:
    """The run's meta.json: the file was submitted as ``<arch>-<key>.<ext>``, its entry's name."""
    stem = Path(submission.original_name).stem
    path = Path(cache_root) / stem / META_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _shipped_meta(submission: Submission) -> dict:
    """The shipped record's training run, in meta.json's words, when the entry is that file."""
    weights = shipped.get(submission.arch) if submission.arch else None
    if weights is None or Path(submission.original_name).stem != weights.stem:
        return {}
    training = weights.record.get("training") or {}
    return {
        "recipe": weights.record.get("recipe"),
        "train_seconds": training.get("wall_seconds") or 0,
        "device": training.get("device"),
    }
