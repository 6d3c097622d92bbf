"""What a submission's result shows in the API: the visibility rule of its page
(``selectors.visibility``), shaped as JSON.

While the edition runs only the public part of the hidden set is shown (every metric, per-class
accuracy, confusion matrix); once it closes, the private part and the whole set too. The
reproducibility record is cut to the keys the page shows, because the evaluator's record also
holds the private numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from leaderboard.metrics import METRICS
from leaderboard.models import Submission
from leaderboard.selectors.records import RECORD_KEYS
from leaderboard.selectors.visibility import PartScore, submission_shown

# Larger confusion matrices are left out, as on the page (ImageNet's would be 1000 x 1000).
MAX_CONFUSION_CLASSES = 100


def submission_summary(*, submission: Submission, now: dt.datetime | None = None) -> dict:
    """The metrics a participant may see now, and which part of the test set they are from."""
    return submission_shown(submission=submission, now=now).errors


def submission_result(
    *, submission: Submission, now: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The full result as the page shows it, or None until the submission is scored."""
    shown = submission_shown(submission=submission, now=now)
    if shown.score is None:
        return None
    record = shown.score.record or {}
    prefix = shown.record_prefix
    names = list(submission.edition.challenge.class_names)
    return {
        "parts": [_part(part) for part in shown.scores],
        "per_class_accuracy": [
            {"class_name": _name(names, i), "accuracy": value}
            for i, value in enumerate(record.get(f"{prefix}per_class_accuracy") or [])
        ],
        "confusion_matrix": _confusion(record.get(f"{prefix}confusion_matrix"), names),
        "record": {key: record[key] for key in RECORD_KEYS if key in record},
        "versions": dict(record.get("versions") or {}),
    }


def _part(part: PartScore) -> dict[str, Any]:
    metrics = {m.field: part.values[m.key] for m in METRICS}
    return {"part": part.part, **metrics, "n_images": part.n_images}


def _name(names: list[str], index: int) -> str:
    return names[index] if index < len(names) else str(index)


def _confusion(matrix: list | None, names: list[str]) -> dict[str, list] | None:
    if not matrix or len(matrix) > MAX_CONFUSION_CLASSES:
        return None
    return {"class_names": [_name(names, i) for i in range(len(matrix))], "rows": matrix}
