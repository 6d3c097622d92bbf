"""Every API error as JSON: ``{"code": ..., "message": ...}`` plus details where they help.

Codes are stable: clients branch on them. The service's refusals (``leaderboard.errors``) and
DRF's own exceptions are mapped here, in one place, so no view formats an error itself.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from leaderboard.errors import ClassroomRefused, SubmissionRefused

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """A refusal with a stable code, raised by the API's own views."""

    def __init__(self, message: str, *, code: str, status_code: int, **extra: Any) -> None:
        super().__init__(message, code=code)
        self.status_code = status_code
        self.extra = extra


# The service's refusal codes that the API reports under another, broader code.
REFUSAL_CODES = {"daily_limit": "limit_reached", "total_limit": "limit_reached"}
REFUSAL_STATUS = {
    "edition_not_open": status.HTTP_403_FORBIDDEN,
    "edition_closed": status.HTTP_403_FORBIDDEN,
    "limit_reached": status.HTTP_403_FORBIDDEN,
    "file_too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
}
# Fields the service's refusals are about, for clients that show errors next to inputs.
REFUSAL_FIELDS = {
    "file_too_large": "file",
    "empty_file": "file",
    "unsupported_format": "file",
    "pickle_refused": "file",
    "arch_required": "arch",
}
# A host's, team's or moderator's request the edition's rules refuse (``ClassroomRefused``):
# 400 with its code, unless listed here.
CLASSROOM_STATUS = {"not_host": status.HTTP_403_FORBIDDEN}
DRF_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "token_invalid"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ValidationError, "validation_error"),
    (exceptions.ParseError, "parse_error"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotFound, "not_found"),
    (exceptions.PermissionDenied, "permission_denied"),
]
# Codes an exception may carry itself that are worth keeping as they are.
OWN_CODES = {"token_expired", "token_invalid"}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: one JSON shape for every error the API answers with."""
    if isinstance(exc, SubmissionRefused):
        response = _refusal(exc)
    elif isinstance(exc, ClassroomRefused):
        status_code = CLASSROOM_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST)
        response = _error(status_code, exc.code, exc.message)
    elif isinstance(exc, Http404):
        response = _error(status.HTTP_404_NOT_FOUND, "not_found", _not_found(exc, context))
    elif isinstance(exc, PermissionDenied):
        response = _error(status.HTTP_403_FORBIDDEN, "permission_denied", _text(exc))
    elif isinstance(exc, exceptions.APIException):
        response = _api_exception(exc)
    elif isinstance(exc, RequestDataTooBig):
        response = _error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "request_too_large", _text(exc))
    elif isinstance(exc, SuspiciousOperation):
        response = _error(status.HTTP_400_BAD_REQUEST, "bad_request", _text(exc))
    elif settings.DEBUG:
        return None  # Django's debugging page
    else:
        logger.error("API request failed", exc_info=exc)
        response = _error(
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            "server_error",
            "The server failed to handle the request; the error has been logged.",
        )
    set_rollback()
    _render_as_json(context)
    return response


def _refusal(exc: SubmissionRefused) -> Response:
    code = REFUSAL_CODES.get(exc.code, exc.code)
    extra: dict[str, Any] = {}
    if code != exc.code:
        extra["reason"] = exc.code
    if exc.code in REFUSAL_FIELDS:
        extra["fields"] = {REFUSAL_FIELDS[exc.code]: [exc.message]}
    return _error(REFUSAL_STATUS.get(code, status.HTTP_400_BAD_REQUEST), code, exc.message, **extra)


def _api_exception(exc: exceptions.APIException) -> Response:
    code = next((c for cls, c in DRF_CODES if isinstance(exc, cls)), None)
    own = exc.get_codes()
    if isinstance(own, str) and (own in OWN_CODES or isinstance(exc, ApiError)):
        code = own
    code = code or exc.default_code
    headers: dict[str, str] = {}
    extra: dict[str, Any] = dict(getattr(exc, "extra", {}))
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        headers["Retry-After"] = str(wait)
        extra["retry_after"] = wait
        message = f"Too many requests; try again in {wait} s."
    elif isinstance(exc.detail, dict | list):
        extra["fields"] = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
        message = _summary(extra["fields"])
    else:
        message = str(exc.detail)
    if isinstance(exc, exceptions.NotAuthenticated):
        message += " Send 'Authorization: Token <key>'; create a key on the site at /me/tokens/."
    return _error(exc.status_code, code, message, headers=headers, **extra)


def _error(
    status_code: int, code: str, message: str, *, headers: dict | None = None, **extra: Any
) -> Response:
    return Response({"code": code, "message": message, **extra}, status_code, headers=headers)


def _summary(fields: dict) -> str:
    """'field: first problem' for each invalid field, in one line."""
    parts = []
    for name, problems in fields.items():
        first = problems[0] if isinstance(problems, list) and problems else problems
        parts.append(f"{name}: {first}" if name not in ("", "non_field_errors") else str(first))
    return "; ".join(parts) or "The request is invalid."


def _not_found(exc: Http404, context: dict[str, Any]) -> str:
    """get_object_or_404's 'No Edition matches the given query.' -> 'No such edition: <path>.'"""
    text = _text(exc)
    request = context.get("request")
    path = getattr(request, "path", "")
    found = re.fullmatch(r"No (\w+) matches the given query\.", text)
    if found:
        return f"No such {found.group(1).lower()}: {path}."
    return text or f"Nothing at {path}."


def _text(exc: Exception) -> str:
    return str(exc.args[0]) if exc.args else ""


def _render_as_json(context: dict[str, Any]) -> None:
    """Errors are JSON even when the request asked for CSV (a CSV of an error says nothing)."""
    request = context.get("request")
    if request is None:
        return
    # Also when negotiation itself failed (``?format=csv`` with ``Accept: application/json``):
    # DRF would otherwise force the negotiation again and pick the CSV renderer.
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is None or renderer.format != "json":
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
