"""How the platform's own log reads: the sweepers' routine runs stay quiet, and what a sweep
changed is said in words.

Celery logs three INFO lines for every periodic task (beat sending it, the worker receiving
it, its success with the returned report as a raw dict): for the two sweepers, every minute,
that is six lines saying nothing. ``RoutineTaskFilter`` (on the console handler in settings)
drops those; the tasks log what they changed themselves, and a failure is still logged.
"""

from __future__ import annotations

import logging

ROUTINE_TASKS = (
    "leaderboard.tasks.sweep_submissions",
    "leaderboard.tasks.sweep_shards",
    "leaderboard.tasks.notify_editions",
)
_CELERY_CHATTER = frozenset({"celery.beat", "celery.worker.strategy", "celery.app.trace"})


class RoutineTaskFilter(logging.Filter):
    """False for Celery's INFO lines about a routine task; everything else passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or record.name not in _CELERY_CHATTER:
            return True
        message = record.getMessage()
        return not any(task in message for task in ROUTINE_TASKS)


def ids_in_words(ids: list[str], noun: str, what: str, *, shown: int = 3) -> str:
    """``2 submissions sent again (3f2a..., 9c01...)``; "" for none. The first ``shown`` ids
    are named, the rest counted."""
    if not ids:
        return ""
    named = ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
    return f"{len(ids)} {noun}{'' if len(ids) == 1 else 's'} {what} ({named})"
