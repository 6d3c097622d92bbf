"""Token authentication: hashed tokens (api/tokens.py), refused once older than
``API_TOKEN_TTL_DAYS``.

A refused token gets a code of its own (``token_invalid``, ``token_expired``) so that clients
can tell "log in again" apart from "you sent no credentials at all".
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from leaderboard.api import tokens
from leaderboard.models import ApiToken

KEYWORDS = (b"token", b"bearer")


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>`` (or ``Bearer <key>``), with expiry and clear refusals.

    DRF's class is the base only for its ``WWW-Authenticate: Token`` answer and so that the
    OpenAPI schema names the scheme; its own token table is not used.
    """

    model = ApiToken

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # not ours: the session (or nobody) may authenticate the request
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected 'Token <key>'.", code="token_invalid"
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                "The token contains characters no token has.", code="token_invalid"
            ) from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, ApiToken]:
        token = tokens.token_find(key=key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(
                "The token is invalid or has been revoked.", code="token_invalid"
            )
        expires = token_expires_at(token=token)
        if expires is not None and timezone.now() >= expires:
            raise exceptions.AuthenticationFailed(
                f"The token expired on {expires:%Y-%m-%d}.", code="token_expired"
            )
        return token.user, token


def token_expires_at(*, token: ApiToken) -> dt.datetime | None:
    """When the token stops working, or None when tokens never expire (TTL 0)."""
    days = settings.API_TOKEN_TTL_DAYS
    return token.created + dt.timedelta(days=days) if days > 0 else None
