"""Per-user request rates and a stricter rate for uploads, read from settings on each request.

DRF's throttles copy ``DEFAULT_THROTTLE_RATES`` once at import; reading it per request lets a
deployment (or a test) change the rates through settings alone.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework import throttling
from rest_framework.settings import api_settings


def _rate(scope: str) -> str | None:
    try:
        return api_settings.DEFAULT_THROTTLE_RATES[scope]
    except KeyError:
        raise ImproperlyConfigured(f"No throttle rate set for the {scope!r} scope.") from None


class UserThrottle(throttling.UserRateThrottle):
    """Requests per user; per client address when anonymous."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)


class ScopedThrottle(throttling.ScopedRateThrottle):
    """Requests per user to the views of one ``throttle_scope`` (e.g. ``submit``)."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)
