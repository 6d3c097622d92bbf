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


class ClassroomRefused(Exception):
    """A team, join, final-selection or moderation request that the edition's rules refuse."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


# Failures that are the platform's fault; they never count against a team's limits.
PLATFORM_ERROR = "platform_error"
# Every failure code that is the platform's doing rather than the model's:
#   platform_error       a worker crashed or the sweeper retried until attempts ran out
#   sandbox_unavailable  bubblewrap could not start on the worker (its configuration)
#   dataset_invalid      the compiled hidden set is missing or damaged on the worker
# The model's own failures (format, loading, checks, timeout, memory, crash) count.
PLATFORM_ERROR_CODES = frozenset({PLATFORM_ERROR, "sandbox_unavailable", "dataset_invalid"})


# The evaluator and the services name the CLI's and the API's flag; a web form names its field.
_FLAGS_AS_FIELDS = {"(--arch)": '(the "Architecture" field)', "--arch": 'the "Architecture" field'}


def message_for_web_form(message: str) -> str:
    """``message`` as the submit page shows it: "(--arch)" becomes the "Architecture" field."""
    for flag, field in _FLAGS_AS_FIELDS.items():
        message = message.replace(flag, field)
    return message
