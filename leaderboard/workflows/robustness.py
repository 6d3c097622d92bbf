"""The robustness track's run of a scored entry: the copies, after the clean score is shown.

Its outcome is read as a scoring attempt's is (``evaluation.outcome_of``): the model's own error
(a time limit, a crash, a wrong output on the copies) is recorded and shown, and the clean score
stays; a fault of the platform gives the run back to the sweeper, a bounded number of times.
"""

from __future__ import annotations

import logging

from leaderboard.evaluation import Action, ScoringConfig, outcome_of, runs
from leaderboard.services.robustness import robustness_samples_refresh
from leaderboard.services.robustness_runs import (
    robustness_run_fail,
    robustness_run_record,
    robustness_run_release,
    robustness_run_start,
)

logger = logging.getLogger(__name__)


def score_robustness(*, submission_id: str, worker: str) -> str:
    """Measure one scored entry's robustness: "measured", an error code, "released" or
    "skipped" (no pending run: a duplicate delivery, or a score re-run since)."""
    job = robustness_run_start(submission_id=submission_id, worker=worker)
    if job is None:
        return "skipped"
    config = ScoringConfig.from_settings()
    try:
        result = runs.score_robustness(job.scoring, config=config, timeout_s=job.timeout_s)
    except Exception as exc:
        outcome = outcome_of(exc)
        if outcome.action is Action.RECORD:
            robustness_run_fail(job=job, code=outcome.code, message=outcome.message)
            return outcome.code
        if outcome.action is Action.RELEASE:
            logger.error("robustness run of %s released (%s)", submission_id, outcome.message)
        else:
            logger.exception("robustness run of %s crashed on the worker", submission_id)
        robustness_run_release(job=job)
        if outcome.action is Action.RELEASE_AND_RAISE:
            raise
        return outcome.code
    if not robustness_run_record(job=job, result=result):
        return "skipped"
    robustness_samples_refresh(submission_id=submission_id)
    return "measured"
