"""A large set's slices, each scored by whichever worker is free, then merged once."""

from __future__ import annotations

import logging

from leaderboard import services, sharding
from leaderboard.evaluation import Action, ScoringConfig, outcome_of, runs
from leaderboard.workflows.failures import attempt_failed
from leaderboard.workflows.insights import record_insights

logger = logging.getLogger(__name__)


def score_shard(
    *, submission_id: str, attempt: int, index: int, worker: str, merge_when_complete: bool
) -> str:
    """Score one slice; returns "done", an error code, "released" or "skipped".

    ``merge_when_complete``: this shard was sent outside a chord (re-sent by the sweeper, or no
    result backend), so it sends the merge itself when it finds every shard done.
    """
    job = sharding.shard_start(
        submission_id=submission_id, attempt=attempt, index=index, worker=worker
    )
    if job is None:
        return "skipped"  # done, taken by another delivery, or its attempt is over
    config = ScoringConfig.from_settings()
    try:
        info = runs.score_shard(job, config=config)
    except Exception as exc:
        outcome = outcome_of(exc)
        if outcome.action is Action.RECORD:
            if sharding.shard_fail(job=job, error_code=outcome.code, error_message=outcome.message):
                sharding.shards_remove_files(submission_id=job.submission_id)
            return outcome.code
        if outcome.action is Action.RELEASE:
            logger.error("shard %d of submission %s released: %s", index, submission_id, outcome)
        else:
            logger.exception(
                "shard %d of submission %s crashed on the worker", index, submission_id
            )
        sharding.shard_release(job=job)
        if outcome.action is Action.RELEASE_AND_RAISE:
            raise
        return outcome.code
    sharding.shard_finish(job=job, info=info)
    if merge_when_complete and sharding.shards_all_done(
        submission_id=job.submission_id, attempt=job.attempt
    ):
        sharding.merge_send(submission_id=job.submission_id, attempt=job.attempt)
    return "done"


def merge_shards(*, submission_id: str, attempt: int) -> str:
    """Merge a sharded attempt whose shards are all done and record its score, once."""
    job = sharding.merge_start(submission_id=submission_id, attempt=attempt)
    if job is None:
        return "skipped"  # recorded already, attempt over, or a shard still to come
    config = ScoringConfig.from_settings()
    try:
        result = runs.merge_shards(job, config=config)
    except Exception as exc:
        return attempt_failed(
            exc, submission_id=submission_id, attempt=attempt, what="merge", config=config
        )
    if not services.score_record(submission_id=submission_id, attempt=attempt, result=result):
        return "skipped"
    sharding.shards_remove_files(submission_id=submission_id)
    record_insights(job.scoring, config=config, model_format=result.get("format"))
    return "scored"
