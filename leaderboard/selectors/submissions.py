"""Reads about submissions: a participant's own list, live statuses, limits left."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from leaderboard.models import Edition, Membership, Submission

from .quota import SubmissionUsage, quota_usage


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
    return [
        {
            "id": str(s.pk),
            "status": s.status,
            "status_display": s.get_status_display(),
            "error_code": s.error_code,
            "error_message": s.error_message,
            **shown_errors(submission=s, now=now),
        }
        for s in rows
    ]


def shown_errors(*, submission: Submission, now: dt.datetime) -> dict[str, float | None]:
    """The errors a participant may see: public ones while the edition runs, private after."""
    score = getattr(submission, "score", None) if submission.status == "scored" else None
    if score is None:
        return {"phase": None, "top1_error": None, "top5_error": None}
    if submission.edition.is_closed(now=now):
        return {
            "phase": "private",
            "top1_error": score.private_top1_error,
            "top5_error": score.private_top5_error,
        }
    return {
        "phase": "public",
        "top1_error": score.public_top1_error,
        "top5_error": score.public_top5_error,
    }


def submission_get_visible(*, pk: uuid.UUID, user: AbstractBaseUser) -> Submission:
    """A submission its team members and staff may see; baselines are public. 404 otherwise."""
    submission = (
        Submission.objects.select_related("edition__challenge", "team", "score", "submitted_by")
        .filter(pk=pk)
        .first()
    )
    if submission is None:
        raise Http404("No such submission.")
    if submission.is_baseline or user.is_staff:
        return submission
    if (
        user.is_authenticated
        and Membership.objects.filter(team_id=submission.team_id, user=user).exists()
    ):
        return submission
    raise Http404("No such submission.")


def submission_usage(
    *, edition: Edition, user: AbstractBaseUser, now: dt.datetime | None = None
) -> SubmissionUsage:
    """How many of the edition's limits the user's team has used (counted as the service does)."""
    return quota_usage(edition=edition, user=user, now=now)
