"""Notifications through a real Celery worker process: the scoring worker queues the notify
task, a worker makes the rows and sends the mail with the backend EMAIL_URL gives it (files in a
folder, or SMTP to a server this test runs on 127.0.0.1 with aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leaderboard.celery import app as celery_app
from leaderboard.models import Notification, Participant, Submission
from leaderboard.models.notifications import Kind
from leaderboard.selectors import leaderboard_rows
from leaderboard.services.notifications import preference_set

from ..factories import make_team, make_user, onnx_bytes
from .helpers import PASSWORD, upload, wait_for_status
from .mailbox import read_mail

pytestmark = pytest.mark.slow
Status = Submission.Status
SITE = "https://arena.example.org"


def pct(fraction: float) -> str:
    return f"{fraction * 100:.2f}%"


def person(name: str):
    user = make_user(name)
    user.email = f"{name}@example.org"
    user.save()
    return user


def mail_env(queue: str, **more: str) -> dict[str, str]:
    return {"NOTIFICATIONS_QUEUE": queue, "SITE_URL": SITE, **more}


def text_of(message: email.message.Message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def tiny_onnx(path: Path, *, classes: int = 10, declared: str | int = 10) -> Path:
    """A flatten + linear classifier of 28x28 digits; ``declared`` is the class dimension its
    header announces (a name: unknown until it runs)."""
    path.write_bytes(
        onnx_bytes(channels=1, height=28, width=28, classes=classes, declared=declared)
    )
    return path


def test_a_scored_submission_is_mailed_by_the_worker_with_its_errors_rank_and_link(
    workers, scoring_queue, digits_edition, tmp_path
):
    mail_dir = tmp_path / "mail"
    workers.start("gpu1", **mail_env(scoring_queue, EMAIL_URL=f"filemail://{mail_dir}"))
    dana, eve = person("dana"), person("eve")
    make_team(edition=digits_edition, name="dana and eve", users=[dana, eve])
    preference_set(user=eve, kind=Kind.SUBMISSION, email=False)  # eve turned this kind off
    client = Client()
    assert client.login(username="dana", password=PASSWORD)

    model = tiny_onnx(tmp_path / "tiny.onnx")
    submission = upload(client=client, edition=digits_edition, model=model, method="tiny")
    submission = wait_for_status(submission, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert submission.status == Status.SCORED, submission.error_message

    (message,) = read_mail(mail_dir, count=1)
    assert message["To"] == "dana@example.org"
    text = text_of(message)
    score = submission.score
    # As printed by an independent formatter from the row the worker recorded.
    assert f"Top-5 error: {pct(score.public_top5_error)}" in text
    assert f"Top-1 error: {pct(score.public_top1_error)}" in text
    (row,) = leaderboard_rows(edition=digits_edition, phase="public", metric="top5")
    assert f"#{row.position} of 1 team." in text
    assert f"{SITE}/submissions/{submission.pk}/" in text
    assert message["List-Unsubscribe"].strip().startswith(f"<{SITE}/notifications/unsubscribe/")

    rows = dict(Notification.objects.values_list("user__username", "mail"))
    assert rows == {"dana": Notification.Mail.SENT, "eve": Notification.Mail.OFF}


def test_a_failed_submission_is_mailed_with_its_code_and_message(
    workers, scoring_queue, digits_edition, tmp_path
):
    mail_dir = tmp_path / "mail"
    workers.start("gpu1", **mail_env(scoring_queue, EMAIL_URL=f"filemail://{mail_dir}"))
    person("dana")
    client = Client()
    assert client.login(username="dana", password=PASSWORD)
    model = tiny_onnx(tmp_path / "seven.onnx", classes=7, declared="classes")
    submission = upload(client=client, edition=digits_edition, model=model, method="seven")
    submission = wait_for_status(submission, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert submission.status == Status.FAILED

    (message,) = read_mail(mail_dir, count=1)
    text = text_of(message)
    assert submission.error_code in message["Subject"]
    assert f"Error code: {submission.error_code}" in text
    assert submission.error_message.splitlines()[0] in text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def test_mail_that_cannot_be_sent_is_retried_and_never_fails_the_scoring(
    workers, scoring_queue, digits_edition, tmp_path
):
    port = free_port()  # nothing listens there yet: every connection is refused
    env = mail_env(
        scoring_queue,
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        MAIL_RETRY_BACKOFF_S="1",
        MAIL_RETRY_BACKOFF_MAX_S="2",
        MAIL_RETRIES="30",
    )
    worker = workers.start("gpu1", **env)
    person("dana")
    client = Client()
    assert client.login(username="dana", password=PASSWORD)
    model = tiny_onnx(tmp_path / "tiny.onnx")
    submission = upload(client=client, edition=digits_edition, model=model, method="tiny")
    submission = wait_for_status(submission, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert submission.status == Status.SCORED, submission.error_message

    deadline = time.monotonic() + 150  # a busy machine: the backoff is 1-2 s
    while "attempt 2 failed" not in workers.log(worker):
        assert time.monotonic() < deadline, workers.log(worker)[-3000:]
        time.sleep(0.3)
    notification = Notification.objects.get()
    assert notification.mail == Notification.Mail.PENDING
    assert "Connection refused" in notification.mail_error or "111" in notification.mail_error
    submission.refresh_from_db()
    assert submission.status == Status.SCORED  # the scoring is not the mail's business

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        deadline = time.monotonic() + 150  # a busy machine: the backoff is 1-2 s
        while not inbox.messages:
            assert time.monotonic() < deadline, workers.log(worker)[-3000:]
            time.sleep(0.2)
    finally:
        server.stop()
    (message,) = inbox.messages
    assert message["To"] == "dana@example.org"
    assert f"{SITE}/submissions/{submission.pk}/" in text_of(message)
    notification.refresh_from_db()
    assert notification.mail == Notification.Mail.SENT


def test_opening_and_closing_notices_go_once_when_the_periodic_task_runs_twice(
    workers, scoring_queue, digits_edition, tmp_path
):
    now = timezone.now()
    digits_edition.opens_at = now - dt.timedelta(minutes=1)
    digits_edition.closes_at = now + dt.timedelta(hours=12)  # so: open, and closing within a day
    digits_edition.save()
    for name in ("ann", "bob"):
        Participant.objects.create(edition=digits_edition, user=person(name))
    mail_dir = tmp_path / "mail"
    workers.start("beat1", **mail_env(scoring_queue, EMAIL_URL=f"filemail://{mail_dir}"))
    for _ in range(2):
        celery_app.send_task("leaderboard.tasks.notify_editions", queue=scoring_queue)

    messages = read_mail(mail_dir, count=4)
    assert len(messages) == 4
    got = sorted((m["To"], "is open" in m["Subject"]) for m in messages)
    assert got == [
        ("ann@example.org", False),
        ("ann@example.org", True),
        ("bob@example.org", False),
        ("bob@example.org", True),
    ]
    assert digits_edition.notices.count() == 2


def test_an_announcement_to_those_yet_to_submit_is_mailed_only_to_them(
    workers, scoring_queue, digits_edition, tmp_path, settings
):
    settings.NOTIFICATIONS_QUEUE = scoring_queue  # the host's request queues the task there
    mail_dir = tmp_path / "mail"
    workers.start("mail1", **mail_env(scoring_queue, EMAIL_URL=f"filemail://{mail_dir}"))
    host = person("teacher")
    digits_edition.host = host
    digits_edition.save()
    done, waiting, solo = person("done"), person("waiting"), person("solo")
    submitted = make_team(edition=digits_edition, name="submitted", users=[done])
    make_team(edition=digits_edition, name="not yet", users=[waiting])
    Participant.objects.create(edition=digits_edition, user=solo)
    Submission.objects.create(
        edition=digits_edition, team=submitted, status=Status.FAILED, file="submissions/x"
    )

    client = Client()
    assert client.login(username="teacher", password=PASSWORD)
    url = reverse(
        "announcements",
        kwargs={"slug": digits_edition.challenge.slug, "edition": digits_edition.slug},
    )
    form = {
        "subject": "Deadline",
        "body": "Submit **something** by Friday.",
        "audience": "not_submitted",
    }
    assert client.post(url, form).status_code == 302

    messages = read_mail(mail_dir, count=2)
    assert sorted(m["To"] for m in messages) == ["solo@example.org", "waiting@example.org"]
    html = messages[0].get_body(preferencelist=("html",)).get_content()
    assert "<strong>something</strong>" in html
