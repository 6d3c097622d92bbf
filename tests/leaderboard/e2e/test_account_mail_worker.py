"""allauth's mail through a real Celery worker and a real SMTP server on 127.0.0.1 (aiosmtpd): a
password reset asked for while the mail server is down answers at once, the worker retries with
backoff, and the mail arrives once the server is up, with a link that works."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from ..factories import make_user

pytestmark = pytest.mark.slow


class Inbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_reset_mail_waits_for_the_mail_server_and_then_arrives(workers, scoring_queue, settings):
    settings.NOTIFICATIONS_QUEUE = scoring_queue
    port = free_port()  # nothing listens there yet: every connection is refused
    worker = workers.start(
        "mail1",
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        MAIL_RETRY_BACKOFF_S="1",
        MAIL_RETRY_BACKOFF_MAX_S="2",
        MAIL_RETRIES="30",
    )
    user = make_user("lee")
    EmailAddress.objects.create(user=user, email="lee@example.org", primary=True)

    started = time.monotonic()
    response = Client().post(reverse("account_reset_password"), {"email": "lee@example.org"})
    assert response.status_code == 302  # the page does not wait for the mail server
    assert time.monotonic() - started < 5

    deadline = time.monotonic() + 150  # a busy machine: the backoff is 1-2 s
    while workers.log(worker).count("account mail") < 2:
        assert time.monotonic() < deadline, workers.log(worker)[-3000:]
        time.sleep(0.3)
    assert "Connection refused" in workers.log(worker) or "111" in workers.log(worker)

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        deadline = time.monotonic() + 150
        while not inbox.messages:
            assert time.monotonic() < deadline, workers.log(worker)[-3000:]
            time.sleep(0.2)
        time.sleep(1.5)  # a duplicate would show now
    finally:
        server.stop()
    (message,) = inbox.messages
    assert message["To"] == "lee@example.org"
    assert message["Subject"].startswith("[Arena] ")
    body = message.get_body(preferencelist=("plain",)).get_content()
    (link,) = re.findall(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", body)

    browser = Client()
    form = browser.get(link, follow=True)
    new = "a-reset-after-the-outage-3"
    done = browser.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert done.status_code == 302
    assert Client().post(reverse("login"), {"login": "lee", "password": new}).status_code == 302
