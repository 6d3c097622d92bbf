"""What a failed evaluator call means for the submission: the model's fault, or the platform's.

One mapping for every task (whole runs, shards, merges): an ``EvaluatorError`` is about the
model and is recorded with its code; a shard file missing on disk, Celery's soft time limit
(set above the model's own limit, so it means the worker hung) or any other exception is the
platform's, and the attempt is given back to the sweeper.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded

from evaluator.errors import EvaluatorError
from evaluator.shards import ShardMissing


class Action(enum.Enum):
    RECORD = "record"  # fail the attempt with the model's error code and message
    RELEASE = "release"  # give the attempt back; the sweeper sends it again
    RELEASE_AND_RAISE = "release_and_raise"  # as RELEASE, and let Celery log the crash


@dataclass(frozen=True)
class Outcome:
    action: Action
    code: str  # what the task returns: the error code, or "released"
    message: str = ""


def outcome_of(exc: BaseException) -> Outcome:
    """The state a submission (or shard) moves to after ``exc`` escaped an evaluator call."""
    if isinstance(exc, ShardMissing):
        # Done in the database, absent on disk: a worker that does not share SCORING_SHARD_DIR.
        return Outcome(Action.RELEASE, exc.code, exc.message)
    if isinstance(exc, EvaluatorError):
        return Outcome(Action.RECORD, exc.code, exc.message)
    if isinstance(exc, SoftTimeLimitExceeded):
        return Outcome(Action.RELEASE, "released", "stopped by the worker's time limit")
    return Outcome(Action.RELEASE_AND_RAISE, "released")
