"""API tokens, one per user, stored as a SHA-256 digest: create (replacing), find, revoke.

The database keeps a token's digest and first characters, never the token, so a copy of the
database (a backup, a dump) signs nobody in. A plain SHA-256 suffices: a token is 256 random
bits, not a password, so there is nothing to guess. No secret from settings goes in, so
rotating DJANGO_SECRET_KEY does not sign every program out. The token itself is shown once, in
the answer to the request that made it. Creating a token replaces the previous one, so a user
who lost a token (or leaked it) makes a new one and the old one stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from leaderboard.models import ApiToken

KEY_BYTES = 32
PREFIX_CHARS = 8


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: its row, and the key itself (never stored, shown to its owner once)."""

    token: ApiToken
    key: str


def token_digest(*, key: str) -> str:
    """What is stored for ``key`` (the 0006 migration hashed the older keys the same way)."""
    return hashlib.sha256(key.encode()).hexdigest()


def token_find(*, key: str) -> ApiToken | None:
    """The token whose digest matches ``key``, with its user; None for an unknown key."""
    return ApiToken.objects.select_related("user").filter(digest=token_digest(key=key)).first()


def token_get(*, user: AbstractBaseUser) -> ApiToken | None:
    return ApiToken.objects.filter(user=user).first()


def token_create(*, user: AbstractBaseUser) -> IssuedToken:
    """A new token for ``user``; any previous one is revoked in the same transaction."""
    key = secrets.token_urlsafe(KEY_BYTES)
    with transaction.atomic():
        ApiToken.objects.filter(user=user).delete()
        token = ApiToken.objects.create(
            user=user, prefix=key[:PREFIX_CHARS], digest=token_digest(key=key)
        )
    return IssuedToken(token=token, key=key)


def token_revoke(*, user: AbstractBaseUser) -> bool:
    """Delete the user's token; return whether there was one."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return bool(deleted)
