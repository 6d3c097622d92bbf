"""Reads about submissions: a participant's own list, live statuses, limits left."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from leaderboard.models import Edition, RobustnessRun, Score, Submission

from .quota import SubmissionUsage, quota_usage
from .visibility import submission_get_visible, submission_shown

# A submission in one of these is done: its page stops polling.
FINAL_STATUSES = frozenset({Submission.Status.SCORED, Submission.Status.FAILED})

__all__ = [
    "submission_get_visible",  # the visibility rule's, re-exported
    "submission_list_for_user",
    "submission_status",
    "submission_statuses",
    "submission_usage",
]


def submission_list_for_user(*, user: AbstractBaseUser) -> QuerySet[Submission]:
    """The submissions of every team the user belongs to, newest first, scores joined.

    The scores' full records (tens of KB each with the insights' images) are left unloaded:
    lists show the error columns only.
    """
    return (
        Submission.objects.filter(team__members=user)
        .select_related("edition__challenge", "team", "score", "submitted_by")
        .defer("score__record")
        .order_by("-created_at")
    )


def submission_statuses(*, user: AbstractBaseUser, ids: list[str]) -> list[dict[str, object]]:
    """Status, errors and scores of the user's submissions among ``ids`` (for polling)."""
    valid = []
    for raw in ids[:200]:
        try:
            valid.append(uuid.UUID(raw))
        except ValueError:
            continue
    rows = (
        Submission.objects.filter(team__members=user, pk__in=valid)
        .select_related("score", "edition")
        .defer("score__record")
        .order_by("-created_at")
    )
    now = timezone.now()
    return [_status_row(submission=s, now=now) for s in rows]


def submission_status(*, pk: uuid.UUID, user: AbstractBaseUser) -> dict[str, object]:
    """One submission's status row (``submission_statuses``'), for whoever may see its page
    (the visibility rule: a baseline's for everyone). 404 for anyone else."""
    submission = submission_get_visible(pk=pk, user=user)
    row = _status_row(submission=submission, now=timezone.now())
    # The page waits for the panels the worker records after the score (submission_status.js).
    row["insights"] = Score.objects.filter(
        submission=submission, record__has_key="insights"
    ).exists()
    # ... and for the robustness track's run of the score: pending, running, done, failed.
    row["robustness"] = (
        RobustnessRun.objects.filter(submission=submission).values_list("status", flat=True).first()
    )
    return row


def _status_row(*, submission: Submission, now: dt.datetime) -> dict[str, object]:
    return {
        "id": str(submission.pk),
        "status": submission.status,
        "status_display": submission.get_status_display(),
        "final": submission.status in FINAL_STATUSES,
        "error_code": submission.error_code,
        "error_message": submission.error_message,
        **submission_shown(submission=submission, now=now).errors,
    }


def submission_usage(
    *, edition: Edition, user: AbstractBaseUser, now: dt.datetime | None = None
) -> SubmissionUsage:
    """How many of the edition's limits the user's team has used (counted as the service does)."""
    return quota_usage(edition=edition, user=user, now=now)
