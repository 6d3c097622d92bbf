"""Putting notification work on the queue. Every function here returns instead of raising:
a broker or mail outage must never fail the scoring, an invitation or a host's form."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import ParamSpec

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leaderboard.celery import app
from leaderboard.models import Notification

logger = logging.getLogger(__name__)
P = ParamSpec("P")

NOTIFY_TASK = "leaderboard.tasks.notify"
MAIL_TASK = "leaderboard.tasks.send_notification_mail"
# Fail fast when the broker is down: this runs right after a score is recorded.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def notify_enqueue(*, event: str, ref: str) -> None:
    """Queue ``notify(event, ref)`` once the current transaction commits; never raises."""
    transaction.on_commit(functools.partial(_send, NOTIFY_TASK, [event, str(ref)]), robust=True)


def mail_enqueue(*, notification_ids: Iterable[int]) -> int:
    """Queue one mail task per notification; returns how many the broker took.

    Each row the broker took is stamped (``mail_queued_at``); one it refused stays pending
    without a stamp, and the sweep queues it again later (``resend.mail_resend_pending``)."""
    taken = [pk for pk in notification_ids if _send(MAIL_TASK, [pk])]
    if taken:
        try:
            Notification.objects.filter(pk__in=taken).update(mail_queued_at=timezone.now())
        except Exception:  # never the caller's problem: the sweep may queue the row again
            logger.exception("could not stamp the queued mails of %s", taken)
    return len(taken)


def notifies_final(record: Callable[P, bool]) -> Callable[P, bool]:
    """Decorates a service that may move a submission to a final state (scored or failed):
    when it returns True, the submission's notification is queued. One line at the hook."""

    @functools.wraps(record)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> bool:
        recorded = record(*args, **kwargs)
        if recorded:
            try:
                notify_enqueue(event="submission", ref=str(kwargs["submission_id"]))
            except Exception:  # never the scoring's problem
                logger.exception("could not queue the notification of %s", kwargs)
        return recorded

    return wrapper


def _send(task: str, args: list) -> bool:
    try:
        with app.connection_for_write() as connection:
            app.send_task(
                task,
                args=args,
                queue=settings.NOTIFICATIONS_QUEUE,
                connection=connection,
                retry=True,
                retry_policy=_RETRY_POLICY,
            )
    except Exception:  # the broker is down or refuses: log it, never raise into the caller
        logger.exception("could not queue %s%s", task, tuple(args))
        return False
    return True
