"""Why the site refused a submission: a stable code plus a message the participant can act on."""

from __future__ import annotations


class SubmissionRefused(Exception):
    """The upload breaks a rule of the edition (closed, over a limit, too large, bad format)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


# Failures that are the platform's fault; they never count against a team's limits.
PLATFORM_ERROR = "platform_error"
