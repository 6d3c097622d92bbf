"""The baselines of an edition as measured: clean and robust errors, size, training run.

Everything comes from what the platform stored: the score the worker recorded (errors over all
of the hidden set, the evaluator's parameter count, the robustness report when the track ran)
and the training run: its ``meta.json`` in the baseline cache (time, device, epochs), or for
shipped weights their record (``baselines/weights/<arch>.json``). It backs
``manage.py baselines_report``, which prints the README's baseline tables, and the challenge
page's table of the baselines (``selectors.baseline_zoo``). Errors are read on one part of the
hidden set: all of it for the README, the part the edition's boards show for the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from baselines import shipped
from leaderboard.metrics import ALL, ROBUST, TOP1, TOP5
from leaderboard.models import RANKED_MODERATION, Edition, Submission

META_FILE = "meta.json"  # written by baselines.pipeline beside the exported files


@dataclass(frozen=True)
class BaselineRow:
    method_name: str
    year: int | None
    status: str
    submission_id: str = ""
    arch: str = ""  # the registry name of the network, where the entry names it
    part: str = ALL  # the part of the hidden set the errors are on
    n_images: int | None = None  # in that part
    top1: float | None = None
    top5: float | None = None
    params: int | None = None
    robust_top1: float | None = None  # mean over the corruptions (the flip excluded)
    robust_increase: float | None = None  # relative to the clean top-1 error
    transforms: dict[str, float | None] = field(default_factory=dict)  # top-1 per transform
    training: dict = field(default_factory=dict)  # the cache entry's meta.json, if found
    throughput: float | None = None  # images per second, measured by the scoring run
    shipped: bool = False  # the weights shipped with the code (not trained on this site)


def edition_baseline_report(
    *, edition: Edition, cache_root: Path, part: str = ALL
) -> list[BaselineRow]:
    """One row per live baseline entry of ``edition`` (the host's switched-off ones and failed
    ones left out, as the boards leave them out), in year order (then method name), with its
    errors on ``part`` of the hidden set."""
    return baseline_rows(
        submissions=baseline_entries().filter(edition=edition), cache_root=cache_root, part=part
    )


def baseline_entries():
    """The live baseline entries (a QuerySet, scores joined), in year order then method name."""
    return (
        Submission.objects.filter(
            is_baseline=True, hidden_by_host=False, moderation__in=RANKED_MODERATION
        )
        .exclude(status=Submission.Status.FAILED)
        .select_related("score")
        .order_by("method_year", "method_name", "created_at")
    )


def baseline_rows(*, submissions, cache_root: Path, part: str = ALL) -> list[BaselineRow]:
    """``submissions`` (scores joined) as report rows, with their errors on ``part``."""
    return [_row(s, cache_root=cache_root, part=part) for s in submissions]


def _row(submission: Submission, *, cache_root: Path, part: str) -> BaselineRow:
    training = _training_meta(submission, cache_root=cache_root)
    from_shipped = not training and bool(training := _shipped_meta(submission))
    score = getattr(submission, "score", None) if submission.status == "scored" else None
    common = {
        "method_name": submission.method_name,
        "year": submission.method_year,
        "status": submission.status,
        "submission_id": str(submission.pk),
        "arch": submission.arch or _arch_of_file(submission.original_name),
        "part": part,
        "training": training,
        "shipped": from_shipped,
    }
    if score is None:
        return BaselineRow(**common)
    record = score.record if isinstance(score.record, dict) else {}
    robust = record.get("robustness") or {}
    summary = (robust.get("summary") or {}).get(part) or {}
    results = robust.get("results") or {}
    n_images = score.n_images if part == ALL else getattr(score, f"{part}_n_images")
    return BaselineRow(
        **common,
        n_images=n_images,
        top1=getattr(score, TOP1.column(part)),
        top5=getattr(score, TOP5.column(part)),
        params=record.get("params"),
        robust_top1=_robust(score, part=part, summary=summary),
        robust_increase=summary.get("relative_increase"),
        transforms={
            name: (parts.get(part) or {}).get("top1_error") for name, parts in results.items()
        },
        throughput=record.get("throughput_img_s"),
    )


def _robust(score, *, part: str, summary: dict) -> float | None:
    """The robust error on ``part``: the score's column, else (a score recorded before the
    column was filled) the robustness report's mean."""
    value = getattr(score, ROBUST.column(part), None)
    return value if value is not None else summary.get("mean_top1_error")


def _arch_of_file(original_name: str) -> str:
    """The network an ONNX entry was exported from: its file is ``<arch>-<key>.<ext>``."""
    stem = Path(original_name).stem
    arch, _, key = stem.rpartition("-")
    return arch if arch.startswith("baseline-") and key else ""


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
