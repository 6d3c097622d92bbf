"""Putting a submission on the scoring queue; a broker outage is logged, never fatal."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from leaderboard.celery import app
from leaderboard.models import Submission
from leaderboard.services.placement import submission_placement

logger = logging.getLogger(__name__)

SCORE_TASK = "leaderboard.tasks.score_submission"
# Fail fast when the broker is down: the row is kept and the sweeper enqueues it later.
_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def submission_enqueue(*, submission_id: uuid.UUID | str) -> bool:
    """Send the scoring task for a queued submission; return whether the broker took it.

    Runs after the creating transaction commits, so the worker always finds the row. On
    success ``enqueued_at`` is stamped; on failure it is left alone so the sweeper retries.
    """
    try:
        scoring_task_send(task=SCORE_TASK, submission_id=submission_id)
    except (OperationalError, OSError):
        logger.exception("could not enqueue submission %s; the sweeper will retry", submission_id)
        return False
    Submission.objects.filter(pk=submission_id, status=Submission.Status.QUEUED).update(
        enqueued_at=timezone.now()
    )
    return True


def scoring_task_send(*, task: str, submission_id: uuid.UUID | str, **options: object) -> None:
    """Send ``task(submission_id)`` to the queue of the workers that can run the submission's
    model (``leaderboard.fleet.routing``; one query); ``options`` go to Celery (time limits).

    Raises kombu's OperationalError (or OSError) when the broker is down: the caller decides.
    """
    queue = submission_placement(submission_id=submission_id).queue
    # A fresh connection per call picks up the broker URL as configured right now.
    with app.connection_for_write() as connection:
        app.send_task(
            task,
            args=[str(submission_id)],
            queue=queue,
            connection=connection,
            retry=True,
            retry_policy=_RETRY_POLICY,
            **options,
        )


def default_queue_send(*, task: str, arg: str) -> None:
    """Send ``task(arg)`` to the ``default`` queue (imports, model checks: never a GPU's).

    Raises kombu's OperationalError when the broker is down; the caller decides what then.
    """
    with app.connection_for_write() as connection:
        app.send_task(
            task,
            args=[arg],
            queue=settings.CELERY_TASK_DEFAULT_QUEUE,
            connection=connection,
            retry=True,
            retry_policy=_RETRY_POLICY,
        )
