"""An edition's dated notices: when it opens, and a day before it closes. Run by the periodic
task (Celery beat); each edition's notice of each kind goes once, whatever the schedule does:
the EditionNotice row is unique per (edition, kind) and is written in the same transaction as
the notifications it stands for."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leaderboard.models import Edition, EditionNotice
from leaderboard.models.notifications import Kind

from .events import participant_ids, rows_create

# An edition that opened longer ago than this when the notices began (a new deployment, beat
# down for days) gets no "now open" mail: it would be news to no one.
OPENING_LATE_AFTER = dt.timedelta(hours=24)


def edition_notices_create(*, now: dt.datetime | None = None) -> list[int]:
    """Write the notices that are due and not yet sent; ids of the notifications to mail."""
    now = now or timezone.now()
    closing_window = dt.timedelta(seconds=settings.EDITION_CLOSING_NOTICE_S)
    due = Edition.objects.select_related("challenge")
    opening = due.filter(
        opens_at__lte=now, opens_at__gt=now - OPENING_LATE_AFTER, closes_at__gt=now
    )
    closing = due.filter(closes_at__gt=now, closes_at__lte=now + closing_window)
    ids: list[int] = []
    for edition in opening.exclude(notices__kind=Kind.EDITION_OPENING):
        ids += _notice(edition=edition, kind=Kind.EDITION_OPENING, now=now)
    for edition in closing.exclude(notices__kind=Kind.EDITION_CLOSING):
        ids += _notice(edition=edition, kind=Kind.EDITION_CLOSING, now=now)
    return ids


def _notice(*, edition: Edition, kind: str, now: dt.datetime) -> list[int]:
    with transaction.atomic():
        marker, created = EditionNotice.objects.get_or_create(
            edition=edition, kind=kind, defaults={"sent_at": now}
        )
        if not created:
            return []  # another run got here first
        users = participant_ids(edition=edition)
        when = edition.closes_at.astimezone(edition.tzinfo).strftime("%a %d %b %Y, %H:%M %Z")
        if kind == Kind.EDITION_OPENING:
            subject = f"{edition.display_name} is open"
            body = (
                f"{edition.display_name} is open for submissions until {when}.\n\n"
                f"Up to {edition.daily_limit} submissions a day, {edition.total_limit} in all."
            )
        else:
            subject = f"{edition.display_name} closes in 24 hours"
            body = (
                f"{edition.display_name} closes on {when}.\n\n"
                "Choose your team's final submissions before then; after the close the "
                "private part of the test set decides the standings."
            )
        ids = rows_create(
            user_ids=users,
            kind=kind,
            key=f"{kind}:{edition.pk}",
            subject=subject,
            body=body,
            url=edition.get_absolute_url(),
            edition=edition,
        )
        marker.recipients = len(users)
        marker.save(update_fields=["recipients"])
    return ids
