"""Mail that waited: rows left pending because their task never reached the queue (the broker
was down when the notification was made), or was queued so long ago that its retries are over
and it was lost. The sweep (``services.sweep``, every minute) queues each once more.

A sweep claims the rows it re-queues: it locks them (``FOR UPDATE SKIP LOCKED``: a sweep
running at the same time skips them) and stamps ``mail_queued_at`` before it commits, so no
row is queued twice at once, and the next sweep leaves a row alone until its new task has had
its time. A row the broker still refuses loses its stamp and waits for the next sweep. Sending
twice is harmless anyway: a mail task sends only a row still pending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leaderboard.models import Notification

from .enqueue import MAIL_TASK, _send

Mail = Notification.Mail
BATCH = 500


@dataclass
class Resent:
    queued: list[int] = field(default_factory=list)  # queued once more
    unsent: list[int] = field(default_factory=list)  # the broker still refuses


def resend_after() -> dt.timedelta:
    """How long a row may wait for its first task before the sweep queues one (5 minutes by
    default; ``MAIL_RESEND_AFTER_S``): longer than making a notification and queueing it."""
    return dt.timedelta(seconds=settings.MAIL_RESEND_AFTER_S)


def retries_over_after() -> dt.timedelta:
    """How long a queued mail task may keep retrying: every backoff of ``MAIL_RETRIES``
    retries (as ``tasks.send_notification_mail`` spaces them), plus ``resend_after``."""
    factor, cap = settings.MAIL_RETRY_BACKOFF_S, settings.MAIL_RETRY_BACKOFF_MAX_S
    waits = sum(min(cap, factor * 2**retry) for retry in range(settings.MAIL_RETRIES))
    return dt.timedelta(seconds=waits) + resend_after()


def mail_resend_pending(*, now: dt.datetime | None = None) -> Resent:
    """Queue once more the mail of every row pending past its time (at most ``BATCH``)."""
    now = now or timezone.now()
    waited = Q(mail_queued_at__isnull=True, created_at__lt=now - resend_after())
    lost = Q(mail_queued_at__lt=now - retries_over_after())
    with transaction.atomic():
        rows = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(waited | lost, mail=Mail.PENDING)
            .order_by("pk")
        )
        ids = list(rows.values_list("pk", flat=True)[:BATCH])
        Notification.objects.filter(pk__in=ids).update(mail_queued_at=now)
    report = Resent()
    for pk in ids:
        (report.queued if _send(MAIL_TASK, [pk]) else report.unsent).append(pk)
    if report.unsent:
        Notification.objects.filter(pk__in=report.unsent, mail_queued_at=now).update(
            mail_queued_at=None
        )
    return report
