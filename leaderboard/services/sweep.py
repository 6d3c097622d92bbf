"""The sweeper: finds submissions the queue lost and puts them back, a bounded number of times,
fails the free model checks whose worker is gone (``checks.model_check_sweep``), sends again the
robustness runs the queue lost (``robustness_runs``), and queues again the notification mail
that never reached the queue (``notifications.resend``).

Run every minute by Celery beat (``leaderboard.tasks.sweep_submissions``) or by hand with
``manage.py sweep_submissions``. The database row is the source of truth, so sending a task
twice is harmless: only one delivery can claim the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from leaderboard.logs import ids_in_words
from leaderboard.models import Submission

from .checks import model_check_sweep
from .enqueue import submission_enqueue
from .notifications.resend import mail_resend_pending
from .robustness_runs import (
    robustness_run_enqueue,
    robustness_run_give_up,
    robustness_run_take_back,
    robustness_runs_waiting,
)
from .scoring import submission_fail_exhausted

Status = Submission.Status
# A row is committed a moment before its task is sent; leave that moment alone.
ENQUEUE_GRACE = dt.timedelta(seconds=30)
BATCH = 500
# A host's re-run counts its attempts afresh: the limit is on attempts - attempts_before_run.
_ATTEMPTS = ("attempts", "attempts_before_run")


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)  # running past the deadline
    enqueued: list[str] = field(default_factory=list)  # queued but never (or long ago) sent
    failed: list[str] = field(default_factory=list)  # out of attempts
    unsent: list[str] = field(default_factory=list)  # broker still unreachable
    checks_failed: list[str] = field(default_factory=list)  # model checks whose worker is gone
    mails_requeued: list[str] = field(default_factory=list)  # notifications' mail that waited
    mails_unsent: list[str] = field(default_factory=list)  # ... and the broker still refuses
    robustness_sent: list[str] = field(default_factory=list)  # robustness runs sent again
    robustness_failed: list[str] = field(default_factory=list)  # ... out of attempts

    def as_dict(self) -> dict[str, list[str]]:
        return asdict(self)

    def summary(self) -> str:
        """What the sweep changed (or could not send), in words; "" when nothing."""
        parts = [
            ids_in_words(self.requeued, "submission", "back in the queue, past its deadline"),
            ids_in_words(self.enqueued, "queued submission", "sent to the workers again"),
            ids_in_words(self.failed, "submission", "failed, out of attempts"),
            ids_in_words(self.unsent, "submission", "not sent, the broker is unreachable"),
            ids_in_words(self.checks_failed, "model check", "failed, its worker is gone"),
            ids_in_words(self.mails_requeued, "notification", "mail queued again, it had waited"),
            ids_in_words(self.mails_unsent, "notification", "mail not queued, broker unreachable"),
            ids_in_words(self.robustness_sent, "robustness run", "sent to the workers again"),
            ids_in_words(self.robustness_failed, "robustness run", "failed, out of attempts"),
        ]
        return "; ".join(part for part in parts if part)


def submission_sweep(*, now: dt.datetime | None = None) -> SweepReport:
    """Re-enqueue stuck submissions; fail those that used up their attempts, and the model
    checks whose worker is gone; queue the notification mail that waited too long."""
    now = now or timezone.now()
    report = SweepReport(checks_failed=model_check_sweep(now=now))
    mails = mail_resend_pending(now=now)
    report.mails_requeued = [str(pk) for pk in mails.queued]
    report.mails_unsent = [str(pk) for pk in mails.unsent]
    max_attempts = settings.SCORING_MAX_ATTEMPTS

    overdue = Submission.objects.filter(status=Status.RUNNING, deadline__lt=now)
    for pk, attempts, before in overdue.values_list("pk", *_ATTEMPTS)[:BATCH]:
        if attempts - before >= max_attempts:
            if submission_fail_exhausted(
                submission_id=pk,
                status=Status.RUNNING,
                attempts=attempts,
                now=now,
                this_run=attempts - before,
            ):
                report.failed.append(str(pk))
            continue
        taken_back = Submission.objects.filter(
            pk=pk, status=Status.RUNNING, attempts=attempts
        ).update(status=Status.QUEUED, enqueued_at=None, worker="", deadline=None)
        if taken_back:
            report.requeued.append(str(pk))
            _send(pk=pk, report=report)

    requeue_before = now - dt.timedelta(seconds=settings.SCORING_REQUEUE_AFTER_S)
    stuck = Submission.objects.filter(status=Status.QUEUED).filter(
        Q(enqueued_at__isnull=True, created_at__lt=now - ENQUEUE_GRACE)
        | Q(enqueued_at__lt=requeue_before)
    )
    for pk, attempts, before in stuck.values_list("pk", *_ATTEMPTS)[:BATCH]:
        if str(pk) in report.requeued:
            continue
        if attempts - before >= max_attempts:
            if submission_fail_exhausted(
                submission_id=pk,
                status=Status.QUEUED,
                attempts=attempts,
                now=now,
                this_run=attempts - before,
            ):
                report.failed.append(str(pk))
            continue
        report.enqueued.append(str(pk))
        _send(pk=pk, report=report)
    _robustness_sweep(now=now, report=report)
    return report


def _robustness_sweep(*, now: dt.datetime, report: SweepReport) -> None:
    """Robustness runs whose worker is gone, or whose task never reached (or left) the queue:
    sent again, or failed once their attempts are used up."""
    for run in robustness_runs_waiting(now=now):
        pk = str(run.submission_id)
        if run.attempts >= settings.SCORING_MAX_ATTEMPTS:
            if robustness_run_give_up(run=run, now=now):
                report.robustness_failed.append(pk)
            continue
        if run.status == run.Status.RUNNING and not robustness_run_take_back(run=run):
            continue
        if robustness_run_enqueue(submission_id=pk):
            report.robustness_sent.append(pk)


def _send(*, pk: object, report: SweepReport) -> None:
    if not submission_enqueue(submission_id=str(pk)):
        report.unsent.append(str(pk))
