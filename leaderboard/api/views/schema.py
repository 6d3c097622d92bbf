"""Error responses as documented in the OpenAPI schema, so clients (and schemathesis) know them."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

from leaderboard.api.serializers import ErrorSerializer

DESCRIPTIONS = {
    400: "Invalid request: validation_error (an unreadable page_size too), unsupported_format, "
    "pickle_refused, empty_file, arch_required, parse_error.",
    401: "not_authenticated, token_invalid or token_expired.",
    403: "permission_denied, edition_closed, edition_not_open, limit_reached.",
    404: "not_found.",
    406: "not_acceptable.",
    413: "file_too_large.",
    415: "unsupported_media_type.",
    429: "throttled (see retry_after).",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Schema entries for the given error statuses (throttling can answer any request)."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[status])
        for status in sorted({*statuses, 429})
    }
