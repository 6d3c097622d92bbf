"""Each user's e-mail choice per kind, the signed one-click unsubscribe token, read marks."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.utils import timezone

from leaderboard.models import Notification, NotificationPreference
from leaderboard.models.notifications import Kind

# Its own salt: a token signed for anything else on the site never passes as this one.
UNSUBSCRIBE_SALT = "leaderboard.notifications.unsubscribe"


class UnsubscribeRefused(Exception):
    """The token was altered, cut short, or names a user or kind that does not exist."""


def preference_set(*, user: AbstractBaseUser, kind: str, email: bool) -> None:
    """Turn one kind of e-mail on or off for ``user``."""
    if kind not in Kind.values:
        raise ValueError(f"unknown kind of notification {kind!r}")
    NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"email": email})


def preferences_save(*, user: AbstractBaseUser, email_kinds: set[str]) -> None:
    """The settings page's answer: e-mail for exactly the kinds in ``email_kinds``."""
    for kind in Kind.values:
        preference_set(user=user, kind=kind, email=kind in email_kinds)


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    """Signed (the site's SECRET_KEY): names one user and one kind; no login needed to use it."""
    return signing.dumps({"u": user_id, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=False)


def unsubscribe_read(token: str) -> tuple[AbstractBaseUser, str]:
    """The user and kind a token names; UnsubscribeRefused if it is not one we signed."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature as exc:
        raise UnsubscribeRefused(
            "This unsubscribe link is not valid: it was changed or cut short. Use the link "
            "from the e-mail as it is, or change your choices on the settings page."
        ) from exc
    kind = data.get("k") if isinstance(data, dict) else None
    user = get_user_model().objects.filter(pk=data.get("u") if kind else None).first()
    if user is None or kind not in Kind.values:
        raise UnsubscribeRefused("This unsubscribe link names no account of this site.")
    return user, kind


def unsubscribe_apply(*, token: str, email: bool = False) -> tuple[AbstractBaseUser, str]:
    """Turn off (or, undoing, back on) the kind of e-mail the token names."""
    user, kind = unsubscribe_read(token)
    preference_set(user=user, kind=kind, email=email)
    return user, kind


def notifications_mark_read(*, user: AbstractBaseUser, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications (or those of ``ids``) read; how many changed."""
    rows = Notification.objects.filter(user=user, read_at=None)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())
