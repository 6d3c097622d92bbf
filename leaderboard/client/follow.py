"""Following a submission until it is scored or has failed, printing each change once.

Polls with a growing interval (the API throttles per user), waits out a throttled answer, and
rides out a server restart: a few failed polls in a row are retried before giving up.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .console import Console
from .errors import CliError
from .output import status_line
from .transport import Api

FINISHED = {"scored", "failed"}
RETRIED_CODES = {"server_unreachable", "timeout", "http_502", "http_503", "http_504"}
MAX_RETRIES = 5


def follow(
    *,
    api: Api,
    submission_id: str,
    console: Console,
    timeout_s: float | None = None,
    interval_s: float = 1.0,
    max_interval_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Poll the submission until it is finished; return its last state (with the result)."""
    deadline = None if not timeout_s else time.monotonic() + timeout_s
    delay, failures, last = interval_s, 0, None
    while True:
        try:
            submission = api.get_json(f"/api/submissions/{submission_id}/")
            failures = 0
        except CliError as exc:
            if exc.code == "throttled":
                sleep(float(exc.retry_after or max_interval_s))
                continue
            failures += 1
            if exc.code not in RETRIED_CODES or failures > MAX_RETRIES:
                raise
            console.say(f"{_now()}  ({exc.message}; retrying)")
            sleep(delay)
            continue
        line = status_line(submission)
        if line != last:
            console.say(f"{_now()}  {line}")
            last = line
        if submission["status"] in FINISHED:
            return submission
        if deadline is not None and time.monotonic() >= deadline:
            raise CliError(
                f"submission {submission_id} is still {submission['status']} after "
                f"{timeout_s:g} s; follow it with `leaderboard-cli status {submission_id} --wait`",
                code="wait_timeout",
            )
        sleep(delay)
        delay = min(delay * 1.5, max_interval_s)


def _now() -> str:
    return time.strftime("%H:%M:%S")
