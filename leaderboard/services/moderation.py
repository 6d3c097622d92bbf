"""Hosts moderate entries: flag (stays ranked, marked), hide or disqualify (leaves the ranking).

The reason is stored with the entry and shown to its team; clearing restores the entry.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from leaderboard.errors import ClassroomRefused
from leaderboard.models import Submission
from leaderboard.selectors.permissions import can_moderate

from .activity import activity_refresh

Moderation = Submission.Moderation


def submission_moderate(
    *,
    submission: Submission,
    by: AbstractBaseUser,
    action: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Submission:
    """Set the entry's moderation state; every state but "none" needs a reason."""
    if not can_moderate(user=by, edition=submission.edition):
        raise ClassroomRefused(
            "Only the edition's hosts and assistants moderate entries.", code="not_host"
        )
    if action not in Moderation.values:
        raise ClassroomRefused(f"Unknown moderation {action!r}.", code="bad_moderation")
    reason = reason.strip()
    if action != Moderation.NONE and not reason:
        raise ClassroomRefused(
            "Give a reason: the team sees it next to the entry.", code="reason_required"
        )
    submission.moderation = action
    submission.moderation_reason = reason if action != Moderation.NONE else ""
    submission.moderated_by = by
    submission.moderated_at = now or timezone.now()
    with transaction.atomic():
        submission.save(
            update_fields=["moderation", "moderation_reason", "moderated_by", "moderated_at"]
        )
        if not submission.is_baseline:  # a hidden entry leaves its day's scored count
            activity_refresh(edition_id=submission.edition_id, moments=[submission.created_at])
    return submission
