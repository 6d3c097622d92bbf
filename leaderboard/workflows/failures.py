"""Applying an ``Outcome`` to a whole attempt: record the model's error, or release it."""

from __future__ import annotations

import logging

from leaderboard import services
from leaderboard.evaluation import Action, ScoringConfig, outcome_of

logger = logging.getLogger(__name__)


def attempt_failed(
    exc: Exception, *, submission_id: str, attempt: int, what: str, config: ScoringConfig
) -> str:
    """Move the attempt to the state ``exc`` calls for; return the task's answer.

    Re-raises a crash of the platform after releasing, so Celery logs it with its traceback.
    """
    outcome = outcome_of(exc)
    if outcome.action is Action.RECORD:
        services.score_record(
            submission_id=submission_id,
            attempt=attempt,
            error_code=outcome.code,
            error_message=outcome.message,
        )
        return outcome.code
    if outcome.action is Action.RELEASE:
        logger.error(
            "%s of submission %s released (%s; Celery's soft limit is %s s)",
            what,
            submission_id,
            outcome.message,
            config.task_soft_limit_s,
        )
    else:
        logger.exception("%s of submission %s crashed on the worker", what, submission_id)
    services.submission_release(submission_id=submission_id, attempt=attempt)
    if outcome.action is Action.RELEASE_AND_RAISE:
        raise exc
    return outcome.code
