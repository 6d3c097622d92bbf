"""Reads for notifications: a user's list and unread count, their e-mail choices, and the
announcements an edition page shows its viewer."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from leaderboard.models import Announcement, Edition, Notification, NotificationPreference
from leaderboard.models.notifications import Kind

from .permissions import can_moderate

LIST_LENGTH = 100
ANNOUNCEMENTS_SHOWN = 5


@dataclass(frozen=True)
class Choice:
    kind: str
    label: str
    email: bool


def notifications_unread_count(*, user: AbstractBaseUser) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at=None).count()


def notifications_for_user(
    *, user: AbstractBaseUser, limit: int = LIST_LENGTH
) -> list[Notification]:
    """The newest first, with their editions for the page's links."""
    rows = Notification.objects.filter(user=user).select_related("edition__challenge")
    return list(rows[:limit])


def notification_choices(*, user: AbstractBaseUser) -> list[Choice]:
    """Each kind with whether its e-mail is on for ``user`` (on unless turned off)."""
    off = set(
        NotificationPreference.objects.filter(user=user, email=False).values_list("kind", flat=True)
    )
    return [
        Choice(kind=value, label=label, email=value not in off) for value, label in Kind.choices
    ]


def edition_announcements(
    *, edition: Edition, user: AbstractBaseUser, limit: int = ANNOUNCEMENTS_SHOWN
) -> QuerySet[Announcement]:
    """What the edition page shows: those to everyone; one to a smaller audience only to the
    people it went to (and the hosts)."""
    rows = Announcement.objects.filter(edition=edition)
    if not can_moderate(user=user, edition=edition):
        shown = Q(audience=Announcement.Audience.ALL)
        if user.is_authenticated:
            shown |= Q(notification__user=user)
        rows = rows.filter(shown).distinct()
    return rows.order_by("-created_at", "-id")[:limit]
