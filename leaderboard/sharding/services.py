"""State changes of shards, each a conditional UPDATE, so that each happens exactly once.

queued -> running (claims + 1) when a worker picks a shard up, only while its submission is
running the same attempt; running -> done when the logits are on the shared storage, only if
the same claim still holds the row. The submission itself is finished by the merge through
``services.score_record``, whose update is conditional too: a late or repeated shard, merge or
delivery changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leaderboard.errors import PLATFORM_ERROR
from leaderboard.evaluation.jobs import MergeJob, ScoringJob, ShardJob
from leaderboard.evaluation.shards import Span
from leaderboard.models import ScoringShard, Submission
from leaderboard.services.placement import shard_directory
from leaderboard.services.scoring import attempts_exhausted_message, score_record

logger = logging.getLogger(__name__)
Status = ScoringShard.Status
Running = Submission.Status.RUNNING
INFO_KEYS = ("device_name", "batch_size", "seconds", "images_per_second", "wall_seconds")


def shards_create(
    *, submission_id: uuid.UUID | str, attempt: int, spans: tuple[Span, ...], queue: str
) -> bool:
    """Rows for every slice of a running attempt; the submission then leaves the deadline sweep.

    A sharded run may wait in the queue far longer than one task's time limit, so the
    submission's deadline is cleared and each shard carries its own once claimed. Creating the
    rows twice (a repeated start) is harmless. False if the attempt is no longer running.
    """
    with transaction.atomic():
        running = Submission.objects.filter(pk=submission_id, status=Running, attempts=attempt)
        if not running.update(deadline=None):
            return False
        ScoringShard.objects.bulk_create(
            [
                ScoringShard(
                    submission_id=submission_id,
                    attempt=attempt,
                    index=index,
                    start=start,
                    stop=stop,
                    queue=queue[:100],
                )
                for index, (start, stop) in enumerate(spans)
            ],
            ignore_conflicts=True,
        )
    return True


def shards_sent(
    *, submission_id: uuid.UUID | str, attempt: int, indexes: list[int] | None = None
) -> None:
    """Stamp ``enqueued_at`` on queued shards whose message the broker took."""
    rows = ScoringShard.objects.filter(
        submission_id=submission_id, attempt=attempt, status=Status.QUEUED
    )
    if indexes is not None:
        rows = rows.filter(index__in=indexes)
    rows.update(enqueued_at=timezone.now())


def shard_start(
    *,
    submission_id: uuid.UUID | str,
    attempt: int,
    index: int,
    worker: str,
    now: dt.datetime | None = None,
) -> ShardJob | None:
    """Claim a queued shard of a running attempt; None when there is nothing to do.

    Past the claim limit (workers lost again and again) the submission fails with a platform
    error instead, as a whole run would.
    """
    now = now or timezone.now()
    row = (
        ScoringShard.objects.filter(submission_id=submission_id, attempt=attempt, index=index)
        .select_related("submission__edition__challenge")
        .first()
    )
    if row is None or row.status != Status.QUEUED:
        return None
    submission = row.submission
    if submission.status != Running or submission.attempts != attempt:
        return None
    if row.claims >= settings.SCORING_MAX_ATTEMPTS:
        shard_fail_exhausted(row=row, now=now)
        return None
    deadline = now + dt.timedelta(
        seconds=settings.CELERY_TASK_TIME_LIMIT + settings.SCORING_DEADLINE_MARGIN_S
    )
    claimed = ScoringShard.objects.filter(
        pk=row.pk, status=Status.QUEUED, claims=row.claims
    ).update(
        status=Status.RUNNING,
        claims=F("claims") + 1,
        worker=worker[:200],
        started_at=now,
        deadline=deadline,
        finished_at=None,
    )
    if not claimed:
        return None
    challenge = submission.edition.challenge
    return ShardJob(
        shard_id=row.pk,
        submission_id=str(submission.pk),
        attempt=attempt,
        index=row.index,
        span=(row.start, row.stop),
        claim=row.claims + 1,
        dataset_dir=challenge.dataset_dir or Path(settings.DATA_ROOT),
        model_path=Path(submission.file.path),
        arch=submission.arch or None,
        precision=challenge.precision,
        directory=shard_directory(submission_id=submission.pk, attempt=attempt),
    )


def shard_finish(*, job: ShardJob, info: dict, now: dt.datetime | None = None) -> bool:
    """Mark a claimed shard done once its logits are written; False if the claim was lost."""
    kept = {key: info.get(key) for key in INFO_KEYS} | {"sandbox": info.get("sandbox")}
    return bool(
        _claimed(job).update(
            status=Status.DONE, finished_at=now or timezone.now(), deadline=None, info=kept
        )
    )


def shard_release(*, job: ShardJob) -> bool:
    """Hand a claimed shard back after a platform fault; the sweeper sends it again."""
    return bool(
        _claimed(job).update(status=Status.QUEUED, enqueued_at=None, worker="", deadline=None)
    )


def shard_fail(
    *, job: ShardJob, error_code: str, error_message: str, now: dt.datetime | None = None
) -> bool:
    """The model failed on this slice: the shard and its submission fail (once)."""
    now = now or timezone.now()
    _claimed(job).update(status=Status.FAILED, finished_at=now, deadline=None)
    return score_record(
        submission_id=job.submission_id,
        attempt=job.attempt,
        error_code=error_code,
        error_message=error_message,
        now=now,
    )


def shards_all_done(*, submission_id: uuid.UUID | str, attempt: int) -> bool:
    rows = ScoringShard.objects.filter(submission_id=submission_id, attempt=attempt)
    return rows.exists() and not rows.exclude(status=Status.DONE).exists()


def merge_start(*, submission_id: uuid.UUID | str, attempt: int) -> MergeJob | None:
    """What the merge needs, if the attempt is still running and every shard is done."""
    submission = (
        Submission.objects.filter(pk=submission_id, status=Running, attempts=attempt)
        .select_related("edition__challenge")
        .first()
    )
    if submission is None:
        return None
    spans = list(
        ScoringShard.objects.filter(submission_id=submission_id, attempt=attempt)
        .order_by("index")
        .values_list("status", "start", "stop")
    )
    if not spans or any(status != Status.DONE for status, _start, _stop in spans):
        return None
    challenge = submission.edition.challenge
    scoring = ScoringJob(
        submission_id=str(submission.pk),
        attempt=attempt,
        dataset_dir=challenge.dataset_dir or Path(settings.DATA_ROOT),
        model_path=Path(submission.file.path),
        arch=submission.arch or None,
        precision=challenge.precision,
    )
    return MergeJob(
        scoring=scoring,
        spans=tuple((start, stop) for _status, start, stop in spans),
        directory=shard_directory(submission_id=submission.pk, attempt=attempt),
    )


def shards_remove_files(*, submission_id: uuid.UUID | str) -> None:
    """Delete a submission's shard files (every attempt): the score keeps what matters."""
    shutil.rmtree(Path(settings.SCORING_SHARD_DIR) / str(submission_id), ignore_errors=True)


def _claimed(job: ShardJob):
    return ScoringShard.objects.filter(pk=job.shard_id, status=Status.RUNNING, claims=job.claim)


def shard_fail_exhausted(*, row: ScoringShard, now: dt.datetime) -> None:
    """A shard started too often (its workers keep vanishing): fail the run, once."""
    ScoringShard.objects.filter(pk=row.pk, status=row.status, claims=row.claims).update(
        status=Status.FAILED, finished_at=now, deadline=None
    )
    if score_record(
        submission_id=row.submission_id,
        attempt=row.attempt,
        error_code=PLATFORM_ERROR,
        error_message=attempts_exhausted_message(row.claims),
        now=now,
    ):
        logger.error(
            "submission %s failed: shard %d started %d times",
            row.submission_id,
            row.index,
            row.claims,
        )
