"""Mail that waited, through a real Celery worker (issue 16, section 2): a team's notification
made while the broker was down stays pending; the sweep queues it again and the worker mails it
once, however many sweeps run, two of them at the same moment included."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections
from django.utils import timezone

from leaderboard import services
from leaderboard.celery import app as celery_app
from leaderboard.models import Notification
from leaderboard.services.notifications import mail_enqueue, notifications_create

from ..factories import make_scored, make_team, make_user
from .mailbox import read_mail

pytestmark = pytest.mark.slow
Mail = Notification.Mail
DEAD_BROKER = "redis://127.0.0.1:1/14"  # nothing listens on port 1


def person(name: str):
    user = make_user(name)
    user.email = f"{name}@example.org"
    user.save()
    return user


def test_mail_left_pending_by_a_broker_outage_is_sent_once_by_the_sweep(
    workers, scoring_queue, digits_edition, settings, monkeypatch, tmp_path
):
    settings.NOTIFICATIONS_QUEUE = scoring_queue
    mail_dir = tmp_path / "mail"
    workers.start("mail1", EMAIL_URL=f"filemail://{mail_dir}")
    dana = person("dana")
    team = make_team(edition=digits_edition, name="dana's team", users=[dana])
    scored = make_scored(edition=digits_edition, team=team, top1=0.25, top5=0.1, method="tiny")

    # The notification is made while the broker is down: its mail task never reaches a queue.
    ids = notifications_create(event="submission", ref=str(scored.pk))
    with monkeypatch.context() as patch:
        patch.setitem(celery_app.conf, "broker_url", DEAD_BROKER)
        assert mail_enqueue(notification_ids=ids) == 0
    (row,) = Notification.objects.filter(pk__in=ids)
    assert (row.mail, row.mail_queued_at) == (Mail.PENDING, None)
    assert services.submission_sweep().mails_requeued == []  # too fresh to be called lost

    Notification.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    queued: list[int] = []

    def sweep() -> None:
        try:
            queued.extend(services.submission_sweep().mails_requeued)
        finally:
            connections.close_all()

    sweeps = [threading.Thread(target=sweep) for _ in range(2)]  # two at the same moment
    for thread in sweeps:
        thread.start()
    for thread in sweeps:
        thread.join(60)
    assert queued == [str(row.pk)]

    (message,) = read_mail(mail_dir, count=1)
    assert message["To"] == "dana@example.org"
    assert message["Subject"].startswith("[Arena] Scored: tiny")
    row.refresh_from_db()
    assert row.mail == Mail.SENT and row.mailed_at is not None
    assert services.submission_sweep().mails_requeued == []
    assert len(read_mail(mail_dir, count=1)) == 1  # nothing sent twice
