"""What a submission's result shows, under the same rules as its page.

While the edition runs only the public part of the hidden set is shown (errors, per-class
accuracy, confusion matrix); once it closes, the private part and the whole set too. The
reproducibility record is cut to the keys the page shows, because the evaluator's record also
holds the private numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from leaderboard.models import Submission
from leaderboard.selectors.records import RECORD_KEYS
from leaderboard.selectors.submissions import shown_errors

# Larger confusion matrices are left out, as on the page (ImageNet's would be 1000 x 1000).
MAX_CONFUSION_CLASSES = 100


def submission_summary(*, submission: Submission, now: dt.datetime | None = None) -> dict:
    """The errors a participant may see now, and which part of the test set they are from."""
    return shown_errors(submission=submission, now=now or timezone.now())


def submission_result(
    *, submission: Submission, now: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The full result as the page shows it, or None until the submission is scored."""
    score = getattr(submission, "score", None) if submission.status == "scored" else None
    if score is None:
        return None
    closed = submission.edition.is_closed(now=now or timezone.now())
    record = score.record or {}
    prefix = "" if closed else "public_"
    names = list(submission.edition.challenge.class_names)
    parts = [
        _part("public", score.public_top1_error, score.public_top5_error, score.public_n_images)
    ]
    if closed:
        parts.append(
            _part(
                "private",
                score.private_top1_error,
                score.private_top5_error,
                score.private_n_images,
            )
        )
        parts.append(_part("all", score.top1_error, score.top5_error, score.n_images))
    return {
        "parts": parts,
        "per_class_accuracy": [
            {"class_name": _name(names, i), "accuracy": value}
            for i, value in enumerate(record.get(f"{prefix}per_class_accuracy") or [])
        ],
        "confusion_matrix": _confusion(record.get(f"{prefix}confusion_matrix"), names),
        "record": {key: record[key] for key in RECORD_KEYS if key in record},
        "versions": dict(record.get("versions") or {}),
    }


def _part(name: str, top1: float | None, top5: float | None, n_images: int) -> dict[str, Any]:
    return {"part": name, "top1_error": top1, "top5_error": top5, "n_images": n_images}


def _name(names: list[str], index: int) -> str:
    return names[index] if index < len(names) else str(index)


def _confusion(matrix: list | None, names: list[str]) -> dict[str, list] | None:
    if not matrix or len(matrix) > MAX_CONFUSION_CLASSES:
        return None
    return {"class_names": [_name(names, i) for i in range(len(matrix))], "rows": matrix}
