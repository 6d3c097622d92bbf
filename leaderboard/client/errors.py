"""The one exception the client raises: a message for people and a stable code for scripts."""

from __future__ import annotations


class CliError(Exception):
    """A failure the command reports and exits on (never with an empty message)."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        message = (message or "").strip() or f"the request failed ({code})"
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message
