"""The "what the network sees" panels, after a score is recorded; they never fail a score."""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded

from leaderboard.evaluation import ScoringConfig, ScoringJob, runs
from leaderboard.selectors.insights import insight_samples
from leaderboard.services.insights import score_insights_record

logger = logging.getLogger(__name__)


def record_insights(
    job: ScoringJob, *, config: ScoringConfig, model_format: str | None = None
) -> None:
    """Compute and store the panels on the challenge's public samples, or why they are missing."""
    if not config.insights_on:
        return
    samples = insight_samples(submission_id=job.submission_id, limit=runs.insight_sample_limit())
    if samples is None:
        return
    try:
        insights = runs.insights(
            job,
            images=samples.images,
            labels=samples.labels,
            class_names=samples.class_names,
            spec=samples.spec,
            config=config,
            model_format=model_format,
        )
    except SoftTimeLimitExceeded:
        insights = {"error": "stopped by the worker's time limit"}
    except Exception:
        logger.exception("insights for submission %s failed on the worker", job.submission_id)
        insights = {"error": "not computed because of a problem on the platform"}
    score_insights_record(submission_id=job.submission_id, insights=insights)
