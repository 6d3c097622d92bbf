"""Mail that waited (issue 16, section 2): the sweep queues again the notification mail whose
task never reached the queue, once per sweep, never twice at once. On the real Redis queue
and PostgreSQL (row locks from a second connection)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
import redis
from django.db import connections, transaction
from django.utils import timezone

from leaderboard import services
from leaderboard.celery import app as celery_app
from leaderboard.models import Notification
from leaderboard.models.notifications import Kind
from leaderboard.services.notifications import mail_enqueue, mail_resend_pending
from leaderboard.services.notifications.resend import retries_over_after

from .factories import make_user

pytestmark = pytest.mark.django_db
Mail = Notification.Mail
DEAD_BROKER = "redis://127.0.0.1:1/15"  # nothing listens on port 1


@pytest.fixture
def mail_queue(settings):
    """A queue of this test's own for the mail tasks; yields a reader of the ids queued."""
    name = f"mail-{uuid.uuid4().hex[:10]}"
    settings.NOTIFICATIONS_QUEUE = name
    client = redis.Redis.from_url(celery_app.conf.broker_url)

    def queued() -> list[int]:
        found = []
        for raw in client.lrange(name, 0, -1):
            message = json.loads(raw)
            assert message["headers"]["task"] == "leaderboard.tasks.send_notification_mail"
            found.append(int(message["headers"]["argsrepr"].strip("[]()',\" ")))
        return sorted(found)

    yield queued
    client.delete(name)


def row(user, *, key: str, age_s: float, queued_s: float | None = None, mail=Mail.PENDING):
    now = timezone.now()
    return Notification.objects.create(
        user=user,
        kind=Kind.SUBMISSION,
        key=key,
        subject=key,
        body="b",
        created_at=now - dt.timedelta(seconds=age_s),
        mail_queued_at=None if queued_s is None else now - dt.timedelta(seconds=queued_s),
        mail=mail,
    )


def test_pending_rows_that_waited_are_queued_once(mail_queue, db):
    user = make_user("dana")
    waited = row(user, key="waited", age_s=600)
    fresh = row(user, key="fresh", age_s=30)  # its task may be on its way
    retrying = row(user, key="retrying", age_s=7200, queued_s=3600)  # its task still retries
    lost_s = retries_over_after().total_seconds() + 60
    lost = row(user, key="lost", age_s=lost_s + 60, queued_s=lost_s)
    for mail in (Mail.SENT, Mail.OFF, Mail.FAILED):
        row(user, key=mail, age_s=600, mail=mail)

    report = services.submission_sweep()
    assert report.mails_requeued == [str(waited.pk), str(lost.pk)]
    assert mail_queue() == sorted([waited.pk, lost.pk])
    assert "2 notifications mail queued again" in report.summary()
    stamped = Notification.objects.get(pk=waited.pk).mail_queued_at
    assert abs((timezone.now() - stamped).total_seconds()) < 30
    assert Notification.objects.get(pk=fresh.pk).mail_queued_at is None
    assert Notification.objects.get(pk=retrying.pk).mail_queued_at < stamped

    # The next sweep leaves them alone: their new tasks have their time.
    assert services.submission_sweep().mails_requeued == []
    assert mail_queue() == sorted([waited.pk, lost.pk])


def test_the_broker_still_down_leaves_the_row_for_the_next_sweep(mail_queue, db, monkeypatch):
    waited = row(make_user("dana"), key="waited", age_s=600)
    with monkeypatch.context() as patch:
        patch.setitem(celery_app.conf, "broker_url", DEAD_BROKER)
        report = mail_resend_pending()
    assert (report.queued, report.unsent) == ([], [waited.pk])
    assert Notification.objects.get(pk=waited.pk).mail_queued_at is None
    assert mail_resend_pending().queued == [waited.pk]
    assert mail_queue() == [waited.pk]


def test_mail_enqueue_stamps_what_the_broker_took(mail_queue, db, monkeypatch):
    user = make_user("dana")
    taken, refused = row(user, key="a", age_s=0), row(user, key="b", age_s=0)
    assert mail_enqueue(notification_ids=[taken.pk]) == 1
    with monkeypatch.context() as patch:
        patch.setitem(celery_app.conf, "broker_url", DEAD_BROKER)
        assert mail_enqueue(notification_ids=[refused.pk]) == 0
    assert Notification.objects.get(pk=taken.pk).mail_queued_at is not None
    assert Notification.objects.get(pk=refused.pk).mail_queued_at is None
    assert mail_queue() == [taken.pk]


@pytest.mark.django_db(transaction=True)
def test_a_row_another_sweep_holds_is_skipped_not_queued_twice(mail_queue):
    user = make_user("dana")
    held = row(user, key="held", age_s=600)
    free = row(user, key="free", age_s=600)
    locked, release = threading.Event(), threading.Event()

    def other_sweep() -> None:
        """A second connection that holds ``held`` locked, as a sweep running at once would."""
        try:
            with transaction.atomic():
                list(Notification.objects.select_for_update().filter(pk=held.pk))
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_sweep)
    thread.start()
    try:
        assert locked.wait(30)
        assert mail_resend_pending().queued == [free.pk]  # did not wait for the lock either
    finally:
        release.set()
        thread.join(30)
    assert mail_queue() == [free.pk]
    assert mail_resend_pending().queued == [held.pk]
    assert mail_queue() == sorted([free.pk, held.pk])
