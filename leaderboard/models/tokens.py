"""API tokens, kept as digests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A user's API token, kept as its SHA-256 digest: the database never holds the token.

    ``prefix`` (the token's first characters) lets the owner recognise which token this is; it
    is far too short to sign in with. ``created`` starts the expiry (API_TOKEN_TTL_DAYS).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token"
    )
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the whole token
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
