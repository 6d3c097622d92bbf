"""allauth's mail (address verification, password reset, notices of account changes) sent by a
Celery task, never in the request: the adapter (``leaderboard.adapters``) renders the message in
the request, where allauth's context and links are, and hands it here as plain JSON; the task
sends it through Django's mail framework and retries with backoff when the server refuses.

The message carries a one-time link (verification, reset), so its text is never logged.
"""

from __future__ import annotations

import functools
import logging

from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction

from leaderboard.celery import app

logger = logging.getLogger(__name__)

ACCOUNT_MAIL_TASK = "leaderboard.account_mail.send_account_mail"
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def account_mail_payload(*, message: EmailMessage) -> dict:
    """What the task needs to send ``message`` again, as JSON-safe values."""
    alternatives = getattr(message, "alternatives", []) or []
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "content_subtype": message.content_subtype,
        "from_email": str(message.from_email),
        "to": [str(a) for a in message.to],
        "cc": [str(a) for a in message.cc],
        "bcc": [str(a) for a in message.bcc],
        "reply_to": [str(a) for a in message.reply_to],
        "headers": {str(k): str(v) for k, v in (message.extra_headers or {}).items()},
        "alternatives": [[str(content), str(mimetype)] for content, mimetype in alternatives],
    }


def account_mail_message(*, payload: dict) -> EmailMultiAlternatives:
    """The message back from its payload."""
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
        cc=payload.get("cc") or None,
        bcc=payload.get("bcc") or None,
        reply_to=payload.get("reply_to") or None,
        headers=payload.get("headers") or None,
    )
    message.content_subtype = payload.get("content_subtype") or "plain"
    for content, mimetype in payload.get("alternatives") or []:
        message.attach_alternative(content, mimetype)
    return message


def account_mail_enqueue(*, message: EmailMessage) -> None:
    """Queue ``message`` once the current transaction commits; a broker outage is logged and
    the request goes on (the page offers to send a verification or reset mail again)."""
    payload = account_mail_payload(message=message)
    transaction.on_commit(functools.partial(_send, payload), robust=True)


def account_mail_send(*, payload: dict) -> str:
    """Send it now: "sent"; a failure raises (the task retries)."""
    message = account_mail_message(payload=payload)
    try:
        message.send(fail_silently=False)
    except Exception as exc:
        logger.warning("account mail %r to %s failed: %r", message.subject, message.to, exc)
        raise
    return "sent"


@app.task(bind=True, name=ACCOUNT_MAIL_TASK, acks_late=True)
def send_account_mail(self, payload: dict) -> str:
    """Send one of allauth's messages; retried with backoff as the other mail is."""
    try:
        return account_mail_send(payload=payload)
    except Exception as exc:
        retries = self.request.retries
        if retries >= settings.MAIL_RETRIES:
            logger.error("giving up the account mail to %s: %r", payload.get("to"), exc)
            return "failed"
        countdown = get_exponential_backoff_interval(
            factor=settings.MAIL_RETRY_BACKOFF_S,
            retries=retries,
            maximum=settings.MAIL_RETRY_BACKOFF_MAX_S,
            full_jitter=False,
        )
        raise self.retry(exc=exc, countdown=countdown, max_retries=settings.MAIL_RETRIES) from exc


def _send(payload: dict) -> bool:
    try:
        with app.connection_for_write() as connection:
            app.send_task(
                ACCOUNT_MAIL_TASK,
                args=[payload],
                queue=settings.NOTIFICATIONS_QUEUE,
                connection=connection,
                retry=True,
                retry_policy=_RETRY_POLICY,
            )
    except Exception:  # the broker is down: log it, never fail the sign-up or the reset
        logger.exception("could not queue the account mail to %s", payload.get("to"))
        return False
    return True
