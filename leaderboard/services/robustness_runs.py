"""The robustness track's run of a scored entry: opened with the clean score, claimed by one
worker at a time, recorded into the score's robust columns, or failed without touching it.

The clean score reaches the board as soon as the clean set is scored; the copies (13 times
the images on the demo) follow as a task of their own on the same queue. Every write here is
guarded by the row's status, generation and attempt, so a duplicate delivery, a worker the
sweeper gave up on, or a measurement of a score a host has since re-run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from leaderboard.evaluation import ScoringJob
from leaderboard.models import RobustnessRun, Score, Submission

from .enqueue import scoring_task_send
from .robustness import TRANSFORM_NAMES, robust_score_fields

logger = logging.getLogger(__name__)

ROBUSTNESS_TASK = "leaderboard.tasks.score_robustness"
CELERY_MARGIN_S = 120
Status = RobustnessRun.Status


@dataclass(frozen=True)
class RobustnessJob:
    """A claimed run: the model and set to score, its limit, and the claim that guards its
    record."""

    scoring: ScoringJob
    generation: int
    attempt: int
    timeout_s: float


def robustness_time_limit(*, record: dict) -> float:
    """The run's limit from the clean run's measured wall time (``ROBUSTNESS_*`` settings):
    the clean set and every copy at that pace, times the factor, within the bounds."""
    sets = 1 + len(TRANSFORM_NAMES)
    try:
        clean_s = max(0.0, float(record.get("wall_seconds") or 0.0))
    except (TypeError, ValueError):
        clean_s = 0.0
    wanted = settings.ROBUSTNESS_TIME_FACTOR * sets * clean_s
    low, high = settings.ROBUSTNESS_MIN_TIMEOUT_S, settings.ROBUSTNESS_MAX_TIMEOUT_S
    return float(min(high, max(low, wanted)))


def _score_record(submission_id: uuid.UUID | str) -> dict:
    record = Score.objects.filter(submission_id=submission_id).values_list("record", flat=True)
    found = record.first()
    return found if isinstance(found, dict) else {}


def robustness_run_open(*, submission_id: uuid.UUID | str, now: dt.datetime) -> None:
    """A new score needs its copies scored: (re)open the run as pending, a new generation.

    Called inside the transaction that records the clean score, so the two never part.
    """
    updated = RobustnessRun.objects.filter(submission_id=submission_id).update(
        status=Status.PENDING,
        generation=F("generation") + 1,
        attempts=0,
        worker="",
        enqueued_at=None,
        started_at=None,
        deadline=None,
        finished_at=None,
        error_code="",
        error_message="",
        opened_at=now,
    )
    if not updated:
        RobustnessRun.objects.create(submission_id=submission_id, opened_at=now)


def robustness_run_enqueue(*, submission_id: uuid.UUID | str) -> bool:
    """Send the run's task to the queue of the workers that scored the entry; stamp it.

    False when the broker refused (logged): the sweeper sends it later.
    """
    limit = robustness_time_limit(record=_score_record(submission_id))
    try:
        scoring_task_send(
            task=ROBUSTNESS_TASK,
            submission_id=submission_id,
            # Celery's limits above the run's own, as for scoring: past them, a hung worker.
            soft_time_limit=limit + CELERY_MARGIN_S,
            time_limit=limit + 2 * CELERY_MARGIN_S,
        )
    except (OperationalError, OSError):
        logger.exception("could not enqueue the robustness run of %s", submission_id)
        return False
    RobustnessRun.objects.filter(submission_id=submission_id, status=Status.PENDING).update(
        enqueued_at=timezone.now()
    )
    return True


def robustness_run_start(
    *, submission_id: uuid.UUID | str, worker: str, now: dt.datetime | None = None
) -> RobustnessJob | None:
    """Claim a pending run for this worker; None when there is none (or it is claimed).

    Past the attempt limit (the platform failed it each time) it is failed instead.
    """
    now = now or timezone.now()
    run = (
        RobustnessRun.objects.filter(submission_id=submission_id)
        .select_related("submission__edition__challenge")
        .first()
    )
    if run is None or run.status != Status.PENDING:
        return None
    submission = run.submission
    if submission.status != Submission.Status.SCORED:
        return None
    if run.attempts >= settings.SCORING_MAX_ATTEMPTS:
        robustness_run_give_up(run=run, now=now)
        return None
    claimed = RobustnessRun.objects.filter(
        pk=run.pk, status=Status.PENDING, generation=run.generation, attempts=run.attempts
    ).update(
        status=Status.RUNNING,
        attempts=F("attempts") + 1,
        worker=worker[:200],
        started_at=now,
        deadline=now + _task_window(settings.ROBUSTNESS_MAX_TIMEOUT_S),
    )
    if not claimed:
        return None
    challenge = submission.edition.challenge
    limit = robustness_time_limit(record=_score_record(submission.pk))
    RobustnessRun.objects.filter(pk=run.pk).update(deadline=now + _task_window(limit))
    return RobustnessJob(
        scoring=ScoringJob(
            submission_id=str(submission.pk),
            attempt=submission.attempts,
            dataset_dir=challenge.dataset_dir or Path(settings.DATA_ROOT),
            model_path=Path(submission.file.path),
            arch=submission.arch or None,
            precision=challenge.precision,
            robustness=True,
        ),
        generation=run.generation,
        attempt=run.attempts + 1,
        timeout_s=limit,
    )


def robustness_run_record(
    *, job: RobustnessJob, result: dict, now: dt.datetime | None = None
) -> bool:
    """Write the copies' results into the entry's score (robust columns and record); True if
    this claim still held. The clean columns are not touched: they came from the clean run."""
    robust = result.get("robustness")
    if not isinstance(robust, dict):
        raise ValueError("the result has no robustness part")
    now = now or timezone.now()
    with transaction.atomic():
        if not _held(job).update(status=Status.DONE, finished_at=now, deadline=None):
            return False
        score = Score.objects.select_for_update().get(submission_id=job.scoring.submission_id)
        for name, value in robust_score_fields(result=result).items():
            setattr(score, name, value)
        score.record = {**score.record, "robustness": robust}
        score.save()
    return True


def robustness_run_fail(*, job: RobustnessJob, code: str, message: str) -> bool:
    """The model's own error on the copies (a time limit, a crash): said on its page; the
    clean score stays as it is. True if this claim still held."""
    return bool(
        _held(job).update(
            status=Status.FAILED,
            error_code=(code or "evaluation_failed")[:50],
            error_message=message,
            finished_at=timezone.now(),
            deadline=None,
        )
    )


def robustness_run_release(*, job: RobustnessJob) -> bool:
    """A fault of the platform: back to pending for the sweeper; the attempt still counts."""
    return bool(
        _held(job).update(status=Status.PENDING, enqueued_at=None, worker="", deadline=None)
    )


def robustness_run_give_up(*, run: RobustnessRun, now: dt.datetime) -> bool:
    """Out of attempts, each lost to the platform: failed, and the page says so."""
    failed = RobustnessRun.objects.filter(
        pk=run.pk, status=run.status, generation=run.generation, attempts=run.attempts
    ).update(
        status=Status.FAILED,
        error_code="platform_error",
        error_message=(
            f"The robustness run stopped after {run.attempts} attempts because of a problem "
            "on the platform, not with the model; the clean score is not affected."
        ),
        finished_at=now,
        deadline=None,
    )
    if failed:
        logger.error(
            "robustness run of %s failed after %d attempts", run.submission_id, run.attempts
        )
    return bool(failed)


def robustness_runs_waiting(*, now: dt.datetime) -> list[RobustnessRun]:
    """Runs the queue lost: running past their deadline, or pending and never (or long ago)
    sent. The sweeper takes the first back and sends both again."""
    requeue_before = now - dt.timedelta(seconds=settings.SCORING_REQUEUE_AFTER_S)
    grace = now - dt.timedelta(seconds=30)
    return list(
        RobustnessRun.objects.filter(
            Q(status=Status.RUNNING, deadline__lt=now)
            | Q(status=Status.PENDING, enqueued_at__isnull=True, opened_at__lt=grace)
            | Q(status=Status.PENDING, enqueued_at__lt=requeue_before)
        ).order_by("opened_at")[:500]
    )


def robustness_run_take_back(*, run: RobustnessRun) -> bool:
    """A running row past its deadline: its worker is gone; pending again, to be sent."""
    return bool(
        RobustnessRun.objects.filter(
            pk=run.pk, status=Status.RUNNING, generation=run.generation, attempts=run.attempts
        ).update(status=Status.PENDING, enqueued_at=None, worker="", deadline=None)
    )


def _held(job: RobustnessJob):
    return RobustnessRun.objects.filter(
        submission_id=job.scoring.submission_id,
        status=Status.RUNNING,
        generation=job.generation,
        attempts=job.attempt,
    )


def _task_window(limit_s: float) -> dt.timedelta:
    """Until the sweeper may call the worker gone: past Celery's hard limit for the run."""
    return dt.timedelta(seconds=limit_s + 2 * CELERY_MARGIN_S + settings.SCORING_DEADLINE_MARGIN_S)
