"""Following a submission (or a model check) until it is finished, printing each change once.

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

    def late(submission: dict) -> str:
        return (
            f"submission {submission_id} is still {submission['status']} after "
            f"{timeout_s:g} s; follow it with `leaderboard-cli status {submission_id} --wait`"
        )

    return poll(
        api=api,
        path=f"/api/submissions/{submission_id}/",
        finished=lambda submission: submission["status"] in FINISHED,
        line=status_line,
        late=late,
        console=console,
        timeout_s=timeout_s,
        interval_s=interval_s,
        max_interval_s=max_interval_s,
        sleep=sleep,
    )


def poll(
    *,
    api: Api,
    path: str,
    finished: Callable[[dict], bool],
    line: Callable[[dict], str],
    late: Callable[[dict], str],
    console: Console,
    timeout_s: float | None = None,
    interval_s: float = 1.0,
    max_interval_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """GET ``path`` until ``finished``; print each new ``line`` once; ``late`` says what to do
    when ``timeout_s`` runs out (a CliError ``wait_timeout``)."""
    deadline = None if not timeout_s else time.monotonic() + timeout_s
    delay, failures, last = interval_s, 0, None
    while True:
        try:
            found = api.get_json(path)
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
        text = line(found)
        if text != last:
            console.say(f"{_now()}  {text}")
            last = text
        if finished(found):
            return found
        if deadline is not None and time.monotonic() >= deadline:
            raise CliError(late(found), code="wait_timeout")
        sleep(delay)
        delay = min(delay * 1.5, max_interval_s)


def _now() -> str:
    return time.strftime("%H:%M:%S")
