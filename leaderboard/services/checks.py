"""Free model checks: a participant's file run on the public sample images before it costs a
submission.

A check is a ``ModelCheck`` row, never a ``Submission``, so it never counts against the daily
or total limits (``selectors.quota`` counts submissions only) and never reaches a board. It is
capped per user per hour instead (``MODEL_CHECKS_PER_HOUR``). The upload is refused for the
same reasons, with the same codes and messages, as the submit form refuses it; what happens
when the model runs is the evaluator's report, made by the worker on the ``default`` queue.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from leaderboard.errors import SubmissionRefused
from leaderboard.models import Edition, ModelCheck

# The submit form's own checks: a check is refused exactly where a submission would be.
from .enqueue import default_queue_send
from .submissions import _check_admitted, _check_arch, _check_size, _detect

logger = logging.getLogger(__name__)
Status = ModelCheck.Status
CHECK_TASK = "leaderboard.tasks.check_model"
WINDOW = dt.timedelta(hours=1)
NO_SAMPLES = (
    "This challenge has no public sample images to check on, so the model was not run. "
    "A check needs at least one; you can still submit."
)
NOT_QUEUED = (
    "The check could not be queued (the task queue is down). Please try again in a few minutes."
)
WORKER_LOST = (
    "The worker running this check stopped before it finished (it was restarted, ran out of "
    "memory or its machine was lost). It does not count against your checks; run it again."
)
QUEUE_LOST = (
    "No worker took this check in time (its message was lost from the queue). It does not "
    "count against your checks; run it again."
)


def model_check_create(
    *,
    edition: Edition,
    user: AbstractBaseUser,
    upload: UploadedFile,
    arch: str = "",
    now: dt.datetime | None = None,
) -> ModelCheck:
    """Store the file and queue its check, or raise SubmissionRefused.

    The user's row is locked while their recent checks are counted and the new one inserted,
    so the hourly cap holds under parallel uploads.
    """
    now = now or timezone.now()
    _check_admitted(edition=edition, user=user)
    _check_size(edition=edition, size=upload.size)
    _check_arch(model_format=_detect(upload=upload, challenge=edition.challenge), arch=arch)
    if not edition.challenge.samples.exists():
        raise SubmissionRefused(NO_SAMPLES, code="no_samples")
    with _file_removed_on_rollback() as stored, transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).get()
        _check_hourly(edition=edition, user=user, now=now)
        check = ModelCheck(
            edition=edition, user=user, original_name=(upload.name or "")[:255], arch=arch.strip()
        )
        stored.append(check)
        check.file.save(str(check.id), upload, save=False)
        check.save(force_insert=True)
        transaction.on_commit(partial(model_check_enqueue, check_id=check.id))
    return check


def model_checks_used(*, user: AbstractBaseUser, now: dt.datetime | None = None) -> int:
    """Checks that count against the hourly cap: the last hour's, less those the platform
    failed (a platform fault costs the participant nothing, as for submissions)."""
    since = (now or timezone.now()) - WINDOW
    return _counted(user=user, since=since).count()


def _counted(*, user: AbstractBaseUser, since: dt.datetime):
    return ModelCheck.objects.filter(user=user, created_at__gt=since).exclude(status=Status.FAILED)


def _check_hourly(*, edition: Edition, user: AbstractBaseUser, now: dt.datetime) -> None:
    limit = int(settings.MODEL_CHECKS_PER_HOUR)
    if limit <= 0:
        raise SubmissionRefused("Model checks are turned off on this site.", code="check_limit")
    recent = list(
        _counted(user=user, since=now - WINDOW)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return
    # A place frees up when the oldest of the newest ``limit`` checks leaves the window.
    again = recent[-1] + WINDOW
    minutes = max(1, round((again - now).total_seconds() / 60))
    at = timezone.localtime(again, edition.tzinfo).strftime("%H:%M %Z")
    raise SubmissionRefused(
        f"You have used your {limit} model checks for this hour; you can check again at {at} "
        f"(in about {minutes} minute{'s' if minutes != 1 else ''}). Checks never use up "
        "submissions.",
        code="check_limit",
    )


@contextmanager
def _file_removed_on_rollback() -> Iterator[list[ModelCheck]]:
    """If the block or its commit fails, the files stored in it go too."""
    stored: list[ModelCheck] = []
    try:
        yield stored
    except BaseException:
        for check in stored:
            if check.file.name:
                check.file.delete(save=False)
        raise


def model_check_enqueue(*, check_id: uuid.UUID | str) -> bool:
    """Send the check to the ``default`` queue; False (and the check failed) when the broker
    is down."""
    try:
        default_queue_send(task=CHECK_TASK, arg=str(check_id))
    except OperationalError:
        logger.exception("could not queue the model check %s", check_id)
        if model_check_fail(check_id=check_id, message=NOT_QUEUED, status=Status.QUEUED):
            model_check_file_delete(check_id=check_id)
        return False
    return True


def model_check_time_allowed() -> dt.timedelta:
    """How long a check may stay queued or running before the sweeper takes its worker for
    lost: the task's hard time limit (a check runs under the same one as scoring) plus the
    margin submissions get."""
    return dt.timedelta(
        seconds=settings.CELERY_TASK_TIME_LIMIT + settings.SCORING_DEADLINE_MARGIN_S
    )


def model_check_start(
    *, check_id: uuid.UUID | str, now: dt.datetime | None = None
) -> ModelCheck | None:
    """Claim a queued check for this worker (queued -> running, once, with the deadline the
    sweeper reads); None if not queued."""
    now = now or timezone.now()
    if not ModelCheck.objects.filter(pk=check_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, deadline=now + model_check_time_allowed()
    ):
        return None  # a duplicate delivery, or finished already
    return ModelCheck.objects.select_related("edition__challenge").get(pk=check_id)


def model_check_finish(*, check_id: uuid.UUID | str, report: dict) -> bool:
    """Store the evaluator's report on a running check; True if this call finished it."""
    return bool(
        ModelCheck.objects.filter(pk=check_id, status=Status.RUNNING).update(
            status=Status.DONE, report=report, finished_at=timezone.now()
        )
    )


def model_check_fail(
    *, check_id: uuid.UUID | str, message: str, status: str = Status.RUNNING
) -> bool:
    """The platform could not check the model: say why; True if this call ended the check."""
    return bool(
        ModelCheck.objects.filter(pk=check_id, status=status).update(
            status=Status.FAILED, error_message=message, finished_at=timezone.now()
        )
    )


def model_check_file_delete(*, check_id: uuid.UUID | str) -> None:
    """Checks are not kept: the model file goes once it has run (or could not)."""
    check = ModelCheck.objects.filter(pk=check_id).first()
    if check is None or not check.file.name:
        return
    check.file.delete(save=False)
    ModelCheck.objects.filter(pk=check_id).update(file="")


def model_check_sweep(*, now: dt.datetime | None = None) -> list[str]:
    """Fail the checks whose worker is gone: running past their deadline, or queued longer
    than a check may take (a lost message). Failed checks do not count against the hourly cap
    (``_counted``); a late delivery of the task finds the check no longer queued and skips it.
    Returns the ids this call failed; a second call fails nothing more."""
    now = now or timezone.now()
    failed: list[str] = []
    overdue = ModelCheck.objects.filter(status=Status.RUNNING, deadline__lt=now)
    queued_before = now - model_check_time_allowed()
    lost = ModelCheck.objects.filter(status=Status.QUEUED, created_at__lt=queued_before)
    for rows, message in ((overdue, WORKER_LOST), (lost, QUEUE_LOST)):
        for pk in rows.values_list("pk", flat=True)[:500]:
            # The conditions again in the UPDATE: a worker finishing now keeps its result.
            if rows.filter(pk=pk).update(
                status=Status.FAILED, error_message=message, finished_at=now
            ):
                model_check_file_delete(check_id=pk)
                failed.append(str(pk))
    return failed
