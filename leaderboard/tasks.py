"""Celery tasks: thin. Each calls one function of ``leaderboard.workflows`` or a sweeper.

Calls into the evaluator go through ``leaderboard.evaluation``, the one bridge between the site
and the evaluator.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from leaderboard import services, sharding, workflows
from leaderboard.services.people import people_mail_send

logger = logging.getLogger(__name__)


def _worker(task) -> str:
    return task.request.hostname or "unknown"


@shared_task(bind=True, name="leaderboard.tasks.score_submission", acks_late=True)
def score_submission(self, submission_id: str) -> str:
    """Score one submission: "scored", an error code, "sharded", "released" or "skipped"."""
    return workflows.score_submission(submission_id=submission_id, worker=_worker(self))


@shared_task(bind=True, name="leaderboard.tasks.score_robustness", acks_late=True)
def score_robustness(self, submission_id: str) -> str:
    """Score a scored entry's robustness copies: "measured", an error code, "released" or
    "skipped"."""
    return workflows.score_robustness(submission_id=submission_id, worker=_worker(self))


@shared_task(bind=True, name="leaderboard.tasks.score_shard", acks_late=True)
def score_shard(
    self, submission_id: str, attempt: int, index: int, merge_when_complete: bool = False
) -> str:
    """Score one slice of a large set: "done", an error code, "released" or "skipped"."""
    return workflows.score_shard(
        submission_id=submission_id,
        attempt=attempt,
        index=index,
        worker=_worker(self),
        merge_when_complete=merge_when_complete,
    )


@shared_task(bind=True, name="leaderboard.tasks.merge_shards", acks_late=True)
def merge_shards(self, submission_id: str, attempt: int) -> str:
    """Merge a sharded attempt whose shards are all done and record its score, once."""
    return workflows.merge_shards(submission_id=submission_id, attempt=attempt)


@shared_task(name="leaderboard.tasks.import_dataset", acks_late=True)
def import_dataset(import_id: str) -> str:
    """Unpack and compile a set a host uploaded: "done", "failed", "waiting" or "skipped"."""
    return workflows.import_dataset(import_id=import_id)


@shared_task(name="leaderboard.tasks.check_model", acks_late=True)
def check_model(check_id: str) -> str:
    """Run a participant's free model check on the sample images: "done", "failed", "skipped"."""
    return workflows.check_model(check_id=check_id)


@shared_task(name="leaderboard.tasks.sweep_shards")
def sweep_shards() -> dict[str, list[str]]:
    """Periodic (Celery beat): re-send lost shards, start missed merges, prune shard files."""
    report = sharding.shard_sweep()
    if changed := report.summary():
        logger.info("shard sweep: %s", changed)
    return report.as_dict()


@shared_task(name="leaderboard.tasks.sweep_submissions")
def sweep_submissions() -> dict[str, list[str]]:
    """Periodic (Celery beat): re-enqueue lost submissions, fail those out of attempts and
    the model checks whose worker is gone."""
    report = services.submission_sweep()
    if changed := report.summary():
        logger.info("sweep: %s", changed)
    return report.as_dict()


@shared_task(name="leaderboard.tasks.notify", acks_late=True)
def notify(event: str, ref: str) -> int:
    """Make the notifications of one event (once) and queue each one's mail; how many."""
    ids = services.notifications_create(event=event, ref=ref)
    return services.mail_enqueue(notification_ids=ids)


@shared_task(bind=True, name="leaderboard.tasks.send_notification_mail", acks_late=True)
def send_notification_mail(self, notification_id: int) -> str:
    """Mail one notification; a failure is retried with exponential backoff, then recorded."""
    try:
        return services.notification_mail_send(notification_id=notification_id)
    except Exception as exc:
        retries = self.request.retries
        if retries >= settings.MAIL_RETRIES:
            services.notification_mail_failed(notification_id=notification_id, error=repr(exc))
            return "failed"
        countdown = get_exponential_backoff_interval(
            factor=settings.MAIL_RETRY_BACKOFF_S,
            retries=retries,
            maximum=settings.MAIL_RETRY_BACKOFF_MAX_S,
            full_jitter=False,
        )
        logger.warning(
            "mail of notification %s: attempt %d failed, again in %d s",
            notification_id,
            retries + 1,
            countdown,
        )
        raise self.retry(exc=exc, countdown=countdown, max_retries=settings.MAIL_RETRIES) from exc


@shared_task(name="leaderboard.tasks.notify_editions")
def notify_editions() -> int:
    """Periodic (Celery beat): editions that opened, or close within a day, tell their people
    (each edition's notice of each kind once); queues the mails, returns how many."""
    ids = services.edition_notices_create()
    if ids:
        logger.info("edition notices: %d to mail", len(ids))
    return services.mail_enqueue(notification_ids=ids)


@shared_task(bind=True, name="leaderboard.tasks.send_people_mail", acks_late=True)
def send_people_mail(self, kind: str, pk: int) -> str:
    """Mail a roster invitation or a role invitation to an address; retried with backoff."""
    try:
        return people_mail_send(kind=kind, pk=pk)
    except Exception as exc:
        retries = self.request.retries
        if retries >= settings.MAIL_RETRIES:
            logger.error("giving up the %s mail %s: %r", kind, pk, exc)
            return "failed"
        countdown = get_exponential_backoff_interval(
            factor=settings.MAIL_RETRY_BACKOFF_S,
            retries=retries,
            maximum=settings.MAIL_RETRY_BACKOFF_MAX_S,
            full_jitter=False,
        )
        raise self.retry(exc=exc, countdown=countdown, max_retries=settings.MAIL_RETRIES) from exc
