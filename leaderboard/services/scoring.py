"""State changes of a scoring run, each a conditional UPDATE so it happens exactly once.

queued -> running (attempts + 1) when a worker picks the task up; running -> scored/failed
when it reports back, but only if the row is still running the same attempt. A late or
duplicated task delivery therefore changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leaderboard.errors import PLATFORM_ERROR
from leaderboard.evaluation.jobs import ScoringJob
from leaderboard.metrics import score_values
from leaderboard.models import SCORE_SHARED_COLUMNS, Score, Submission, SupersededScore

from .activity import activity_refresh
from .host_control import rerun_failure_record
from .notifications.enqueue import notifies_final
from .robustness_runs import robustness_run_open

logger = logging.getLogger(__name__)
Status = Submission.Status


def attempts_exhausted_message(attempts: int) -> str:
    return (
        f"Scoring stopped after {attempts} attempts because of a problem on the platform, not "
        "with your model. This submission does not count against your limits; please submit "
        "it again."
    )


def rerun_exhausted_message(attempts: int) -> str:
    return (
        f"The re-run stopped after {attempts} attempts because of a problem on the platform, "
        "not with the model; the score from before stays current."
    )


def submission_start(
    *, submission_id: uuid.UUID | str, worker: str, now: dt.datetime | None = None
) -> ScoringJob | None:
    """Claim a queued submission for this worker; None when it is not (or no longer) queued.

    Past the attempt limit the submission is failed with a platform error instead.
    """
    now = now or timezone.now()
    row = (
        Submission.objects.filter(pk=submission_id)
        .select_related("edition__challenge")
        .only("status", "attempts", "attempts_before_run", "file", "arch", "edition__challenge")
        .first()
    )
    if row is None or row.status != Status.QUEUED:
        return None
    if row.attempts_this_run >= settings.SCORING_MAX_ATTEMPTS:
        submission_fail_exhausted(
            submission_id=row.pk,
            status=Status.QUEUED,
            attempts=row.attempts,
            now=now,
            this_run=row.attempts_this_run,
        )
        return None
    deadline = now + dt.timedelta(
        seconds=settings.CELERY_TASK_TIME_LIMIT + settings.SCORING_DEADLINE_MARGIN_S
    )
    claimed = Submission.objects.filter(
        pk=row.pk, status=Status.QUEUED, attempts=row.attempts
    ).update(
        status=Status.RUNNING,
        attempts=F("attempts") + 1,
        worker=worker[:200],
        started_at=now,
        deadline=deadline,
        finished_at=None,
        error_code="",
        error_message="",
    )
    if not claimed:
        return None
    challenge = row.edition.challenge
    return ScoringJob(
        submission_id=str(row.pk),
        attempt=row.attempts + 1,
        dataset_dir=challenge.dataset_dir or Path(settings.DATA_ROOT),
        model_path=Path(row.file.path),
        arch=row.arch or None,
        precision=challenge.precision,
        robustness=challenge.robustness,
    )


@notifies_final  # a final state: the team is told, by a queued task
def score_record(
    *,
    submission_id: uuid.UUID | str,
    attempt: int,
    result: dict | None = None,
    error_code: str = "",
    error_message: str = "",
    now: dt.datetime | None = None,
    robustness: bool = False,
) -> bool:
    """Finish a running attempt with the evaluator's result or its error; True if recorded.

    ``robustness``: the attempt's challenge has the robustness track and ``result`` is the clean
    set's alone; the copies are scored next by a run of their own, opened here with the score.

    Only the attempt that holds the row may finish it, and only once. A host's re-run of a
    scored submission moves its score to ``SupersededScore`` and records the new one in its
    place, so that every board keeps reading exactly one current score; a re-run that fails
    leaves that score current and is recorded beside it (``host_control``).
    """
    now = now or timezone.now()
    running = Submission.objects.filter(pk=submission_id, status=Status.RUNNING, attempts=attempt)
    if result is None:
        if rerun_failure_record(
            submission_id=submission_id,
            status=Status.RUNNING,
            attempts=attempt,
            error_code=error_code,
            error_message=error_message,
            now=now,
        ):
            return True
        return bool(
            running.update(
                status=Status.FAILED,
                error_code=(error_code or "evaluation_failed")[:50],
                error_message=error_message,
                finished_at=now,
            )
        )
    with transaction.atomic():
        if not running.update(status=Status.SCORED, finished_at=now):
            return False
        fields = _score_fields(result)
        current = Score.objects.select_for_update().filter(submission_id=submission_id).first()
        if current is None:
            current = Score.objects.create(submission_id=submission_id, **fields)
        else:
            _score_supersede(current=current, fields=fields, now=now)
        if robustness and not isinstance(result.get("robustness"), dict):
            robustness_run_open(submission_id=submission_id, now=now)
        if not current.is_baseline:  # the charts' day of the submission: one more scored
            activity_refresh(edition_id=current.edition_id, moments=[current.submitted_at])
    return True


def _score_supersede(*, current: Score, fields: dict, now: dt.datetime) -> None:
    """Keep ``current`` in the history, then write the re-run's score in its place."""
    SupersededScore.objects.create(
        **{column: getattr(current, column) for column in SCORE_SHARED_COLUMNS},
        record=current.record,
        dataset_fingerprint=str(current.record.get("dataset_fingerprint") or "")[:128],
        scored_at=current.created_at,
        superseded_at=now,
    )
    for name, value in fields.items():
        setattr(current, name, value)
    current.created_at = now
    current.save()


def submission_release(*, submission_id: uuid.UUID | str, attempt: int) -> bool:
    """Hand a running attempt back to the queue after a platform fault on the worker.

    The sweeper enqueues it again; the attempt counter bounds how often that happens.
    """
    return bool(
        Submission.objects.filter(pk=submission_id, status=Status.RUNNING, attempts=attempt).update(
            status=Status.QUEUED, enqueued_at=None, worker="", deadline=None
        )
    )


@notifies_final
def submission_fail_exhausted(
    *,
    submission_id: uuid.UUID | str,
    status: str,
    attempts: int,
    now: dt.datetime,
    this_run: int | None = None,
) -> bool:
    """Fail a submission that used up its attempts, if it is still in ``status``.

    ``this_run``: the attempts of the current run (a re-run counts afresh); all by default.
    A host's re-run of a scored entry keeps its score instead (``host_control``).
    """
    if rerun_failure_record(
        submission_id=submission_id,
        status=status,
        attempts=attempts,
        error_code=PLATFORM_ERROR,
        error_message=rerun_exhausted_message(attempts if this_run is None else this_run),
        now=now,
    ):
        return True
    failed = Submission.objects.filter(pk=submission_id, status=status, attempts=attempts).update(
        status=Status.FAILED,
        error_code=PLATFORM_ERROR,
        error_message=attempts_exhausted_message(attempts if this_run is None else this_run),
        finished_at=now,
    )
    if failed:
        logger.error("submission %s failed after %d attempts", submission_id, attempts)
    return bool(failed)


def _score_fields(result: dict) -> dict:
    """Map the evaluator's result dict onto Score's columns; the dict is also kept whole.

    Each registered metric's columns are read where its declaration says the report holds it
    (``leaderboard.metrics``); a metric the result lacks (the robust error without the track)
    is null.
    """
    public = result.get("public") or {}
    private = result.get("private") or {}
    return {
        **score_values(result),
        "n_images": int(result["n_images"]),
        "public_n_images": int(public.get("n_images") or 0),
        "private_n_images": int(private.get("n_images") or 0),
        "record": result,
    }
