"""Celery tasks: thin. Load by id, call the evaluator, record through the services.

This is the one module that touches both Django and the evaluator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from evaluator.errors import EvaluatorError
from leaderboard import services, sharding

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="leaderboard.tasks.score_submission", acks_late=True)
def score_submission(self, submission_id: str) -> str:
    """Score one submission; returns what happened: "scored", an error code, "sharded",
    "released" (handed back to the sweeper after a platform fault) or "skipped"."""
    job = services.submission_start(
        submission_id=submission_id, worker=self.request.hostname or "unknown"
    )
    if job is None:
        return "skipped"  # not queued any more: a duplicate delivery, or already finished
    placement = sharding.submission_placement(submission_id=job.submission_id)
    if placement.sharded:  # a large set: its slices go to whichever workers are free
        sharding.shards_dispatch(
            submission_id=job.submission_id, attempt=job.attempt, placement=placement
        )
        return "sharded"
    try:
        result = scorer_for(job)(
            dataset_dir=job.dataset_dir,
            model_path=job.model_path,
            arch=job.arch,
            device=settings.SCORING_DEVICE,
            timeout_s=settings.SCORING_TIMEOUT_S,
            memory_mb=settings.SCORING_MEMORY_MB,
            pids_max=settings.SCORING_PIDS_MAX,
            precision=job.precision,
            batch_size=settings.SCORING_BATCH_SIZE,
            require_sandbox=settings.SCORING_REQUIRE_SANDBOX,
        )
    except EvaluatorError as exc:
        services.score_record(
            submission_id=job.submission_id,
            attempt=job.attempt,
            error_code=exc.code,
            error_message=exc.message,
        )
        return exc.code
    except SoftTimeLimitExceeded:
        # The model's own limit is the evaluator's (SCORING_TIMEOUT_S, a "timeout" that counts),
        # set well below Celery's: past it, the worker hung, so the platform is at fault.
        logger.error(
            "scoring submission %s passed the task's soft time limit (%s s); released",
            job.submission_id,
            settings.CELERY_TASK_SOFT_TIME_LIMIT,
        )
        services.submission_release(submission_id=job.submission_id, attempt=job.attempt)
        return "released"
    except Exception:
        # A fault of the platform, not of the model: give the attempt back for the sweeper.
        logger.exception("scoring submission %s crashed on the worker", job.submission_id)
        services.submission_release(submission_id=job.submission_id, attempt=job.attempt)
        raise
    recorded = services.score_record(
        submission_id=job.submission_id, attempt=job.attempt, result=result
    )
    if recorded and job.robustness:
        from leaderboard.services.robustness import robustness_samples_refresh

        robustness_samples_refresh(submission_id=job.submission_id)
    if recorded and settings.INSIGHTS_TIMEOUT_S > 0:
        record_insights(job)
    return "scored"


def scorer_for(job: services.ScoringJob) -> Callable[..., dict]:
    """``evaluator.scoring.score``, or ``score_robust`` when the challenge runs the robustness
    track: the transformed copies in the same sandboxed run, within the same time limit.

    Imported here so that torch stays out of processes that only enqueue.
    """
    if job.robustness:
        from evaluator.robustness import score_robust

        return score_robust
    from evaluator.scoring import score

    return score


def record_insights(job: services.ScoringJob) -> None:
    """What the network sees, on the challenge's public samples, after the score is recorded.

    Never fails the task: whatever goes wrong is stored as the panel's message instead.
    """
    from evaluator.insights import MAX_SAMPLES, compute_insights
    from evaluator.spec import InputSpec
    from leaderboard.selectors.insights import insight_samples
    from leaderboard.services.insights import score_insights_record

    samples = insight_samples(submission_id=job.submission_id, limit=MAX_SAMPLES)
    if samples is None:
        return
    try:
        insights = compute_insights(
            model_path=job.model_path,
            arch=job.arch,
            samples=samples.images,
            labels=samples.labels,
            class_names=samples.class_names,
            spec=InputSpec.from_dict(samples.spec),
            device=settings.SCORING_DEVICE,
            timeout_s=settings.INSIGHTS_TIMEOUT_S,
            memory_mb=settings.SCORING_MEMORY_MB,
            pids_max=settings.SCORING_PIDS_MAX,
            precision=job.precision,
            require_sandbox=settings.SCORING_REQUIRE_SANDBOX,
        )
    except SoftTimeLimitExceeded:
        insights = {"error": "stopped by the worker's time limit"}
    except Exception:
        logger.exception("insights for submission %s failed on the worker", job.submission_id)
        insights = {"error": "not computed because of a problem on the platform"}
    score_insights_record(submission_id=job.submission_id, insights=insights)


@shared_task(bind=True, name="leaderboard.tasks.score_shard", acks_late=True)
def score_shard(
    self, submission_id: str, attempt: int, index: int, merge_when_complete: bool = False
) -> str:
    """Score one slice of a large set; returns "done", an error code, "released" or "skipped".

    ``merge_when_complete``: this shard was sent outside a chord (re-sent by the sweeper, or no
    result backend), so it sends the merge itself when it finds every shard done.
    """
    job = sharding.shard_start(
        submission_id=submission_id,
        attempt=attempt,
        index=index,
        worker=self.request.hostname or "unknown",
    )
    if job is None:
        return "skipped"  # done, taken by another delivery, or its attempt is over
    from evaluator import shards

    try:
        if shards.shard_done(directory=job.directory, index=job.index):
            info = shards.read_info(directory=job.directory, index=job.index)  # a lost worker's
        else:
            info = shards.score_shard(
                dataset_dir=job.dataset_dir,
                model_path=job.model_path,
                arch=job.arch,
                span=job.span,
                index=job.index,
                directory=job.directory,
                device=settings.SCORING_DEVICE,
                timeout_s=settings.SCORING_TIMEOUT_S,
                memory_mb=settings.SCORING_MEMORY_MB,
                pids_max=settings.SCORING_PIDS_MAX,
                precision=job.precision,
                batch_size=settings.SCORING_BATCH_SIZE,
                require_sandbox=settings.SCORING_REQUIRE_SANDBOX,
            )
    except EvaluatorError as exc:
        if sharding.shard_fail(job=job, error_code=exc.code, error_message=exc.message):
            sharding.shards_remove_files(submission_id=job.submission_id)
        return exc.code
    except SoftTimeLimitExceeded:
        # As in score_submission: the evaluator's own limit is the model's; this one is ours.
        logger.error(
            "shard %d of submission %s passed the task's soft time limit (%s s); released",
            index,
            submission_id,
            settings.CELERY_TASK_SOFT_TIME_LIMIT,
        )
        sharding.shard_release(job=job)
        return "released"
    except Exception:
        logger.exception("shard %d of submission %s crashed on the worker", index, submission_id)
        sharding.shard_release(job=job)
        raise
    sharding.shard_finish(job=job, info=info)
    if merge_when_complete and sharding.shards_all_done(
        submission_id=job.submission_id, attempt=job.attempt
    ):
        sharding.merge_send(submission_id=job.submission_id, attempt=job.attempt)
    return "done"


@shared_task(bind=True, name="leaderboard.tasks.merge_shards", acks_late=True)
def merge_shards(self, submission_id: str, attempt: int) -> str:
    """Merge a sharded attempt whose shards are all done and record its score, once."""
    job = sharding.merge_start(submission_id=submission_id, attempt=attempt)
    if job is None:
        return "skipped"  # recorded already, attempt over, or a shard still to come
    from evaluator import shards

    scoring = job.scoring
    try:
        result = shards.merge_shards(
            dataset_dir=scoring.dataset_dir,
            model_path=scoring.model_path,
            arch=scoring.arch,
            spans=job.spans,
            directory=job.directory,
            device=settings.SCORING_DEVICE,
            precision=scoring.precision,
        )
    except shards.ShardMissing as exc:
        # Done in the database, absent on disk: a worker that does not share SCORING_SHARD_DIR.
        logger.error("merge of %s: %s (is SCORING_SHARD_DIR shared?)", submission_id, exc)
        services.submission_release(submission_id=submission_id, attempt=attempt)
        return exc.code
    except EvaluatorError as exc:
        services.score_record(
            submission_id=submission_id,
            attempt=attempt,
            error_code=exc.code,
            error_message=exc.message,
        )
        return exc.code
    except Exception:
        logger.exception("merging the shards of %s crashed on the worker", submission_id)
        services.submission_release(submission_id=submission_id, attempt=attempt)
        raise
    if not services.score_record(submission_id=submission_id, attempt=attempt, result=result):
        return "skipped"
    sharding.shards_remove_files(submission_id=submission_id)
    if settings.INSIGHTS_TIMEOUT_S > 0:
        record_insights(scoring)
    return "scored"


@shared_task(name="leaderboard.tasks.sweep_shards")
def sweep_shards() -> dict[str, list[str]]:
    """Periodic (Celery beat): re-send lost shards, start missed merges, prune shard files."""
    report = sharding.shard_sweep()
    if report.resent or report.merged or report.failed or report.unsent:
        logger.info("shard sweep: %s", report.as_dict())
    return report.as_dict()


@shared_task(name="leaderboard.tasks.sweep_submissions")
def sweep_submissions() -> dict[str, list[str]]:
    """Periodic (Celery beat): re-enqueue lost submissions, fail those out of attempts."""
    report = services.submission_sweep()
    if report.requeued or report.enqueued or report.failed:
        logger.info("sweep: %s", report.as_dict())
    return report.as_dict()
