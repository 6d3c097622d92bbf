"""A host's announcement to an edition: stored at once, mailed by a task."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from leaderboard.errors import ClassroomRefused
from leaderboard.models import Announcement, Edition

from .enqueue import notify_enqueue

SUBJECT_MAX = 200
BODY_MAX = 20_000


def announcement_create(
    *, edition: Edition, author: AbstractBaseUser, subject: str, body: str, audience: str
) -> Announcement:
    """Store the announcement (it shows on the edition page now) and queue its mail."""
    subject, body = subject.strip(), body.strip()
    if not subject:
        raise ClassroomRefused("Give the announcement a subject.", code="subject_required")
    if len(subject) > SUBJECT_MAX:
        raise ClassroomRefused(
            f"The subject is {len(subject)} characters long; at most {SUBJECT_MAX}.",
            code="subject_too_long",
        )
    if not body:
        raise ClassroomRefused("Write the announcement's text.", code="body_required")
    if len(body) > BODY_MAX:
        raise ClassroomRefused(
            f"The text is {len(body)} characters long; at most {BODY_MAX}.", code="body_too_long"
        )
    if audience not in Announcement.Audience.values:
        raise ClassroomRefused(f"Unknown audience {audience!r}.", code="bad_audience")
    with transaction.atomic():
        announcement = Announcement.objects.create(
            edition=edition, author=author, subject=subject, body=body, audience=audience
        )
        notify_enqueue(event="announcement", ref=str(announcement.pk))
    return announcement
