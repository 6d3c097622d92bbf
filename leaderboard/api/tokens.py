"""API tokens (DRF's authtoken, one per user): create, replace, revoke.

Creating a token replaces the previous one, so a user who lost a token (or leaked it) makes a
new one and the old one stops working at once.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token


def token_get(*, user: AbstractBaseUser) -> Token | None:
    return Token.objects.filter(user=user).first()


def token_create(*, user: AbstractBaseUser) -> Token:
    """A new token for ``user``; any previous one is revoked in the same transaction."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def token_revoke(*, user: AbstractBaseUser) -> bool:
    """Delete the user's token; return whether there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
