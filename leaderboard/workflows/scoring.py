"""Scoring one submission whole, or handing a large set's slices to the fleet."""

from __future__ import annotations

from leaderboard import services, sharding
from leaderboard.evaluation import ScoringConfig, runs
from leaderboard.services.robustness_runs import robustness_run_enqueue
from leaderboard.workflows.failures import attempt_failed
from leaderboard.workflows.insights import record_insights


def score_submission(*, submission_id: str, worker: str) -> str:
    """Score one submission; returns what happened: "scored", an error code, "sharded",
    "released" (handed back to the sweeper after a platform fault) or "skipped"."""
    job = services.submission_start(submission_id=submission_id, worker=worker)
    if job is None:
        return "skipped"  # not queued any more: a duplicate delivery, or already finished
    placement = sharding.submission_placement(submission_id=job.submission_id)
    if placement.sharded:  # a large set: its slices go to whichever workers are free
        sharding.shards_dispatch(
            submission_id=job.submission_id, attempt=job.attempt, placement=placement
        )
        return "sharded"
    config = ScoringConfig.from_settings()
    try:
        result = runs.score(job, config=config)
    except Exception as exc:
        return attempt_failed(
            exc,
            submission_id=job.submission_id,
            attempt=job.attempt,
            what="scoring",
            config=config,
        )
    recorded = services.score_record(
        submission_id=job.submission_id,
        attempt=job.attempt,
        result=result,
        robustness=job.robustness,
    )
    if recorded:
        if job.robustness:  # the copies next, by whichever worker of this queue is free first
            robustness_run_enqueue(submission_id=job.submission_id)
        record_insights(job, config=config, model_format=result.get("format"))
    return "scored"
