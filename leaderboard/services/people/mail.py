"""Mail to people who may have no account yet: a roster invitation and an invitation to help run
an edition, each carrying its signed claim link (``claims``). Sent by a Celery task
(``tasks.send_people_mail``) through Django's mail framework, never in a request; queued after
the commit, never raising into it.

These go to an address, not to a user, so they are not the in-site notifications
(``services.notifications``), which need an account.
"""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from leaderboard.celery import app
from leaderboard.models import EditionRole, RosterEntry

from .claims import claim_nonce, claim_path

logger = logging.getLogger(__name__)

PEOPLE_MAIL_TASK = "leaderboard.tasks.send_people_mail"
KINDS = ("roster", "role")
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def people_mail_enqueue(*, kind: str, pk: int) -> None:
    """Queue one mail once the current transaction commits; a broker outage is logged."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of mail {kind!r}")
    transaction.on_commit(functools.partial(_send, kind, pk), robust=True)


def people_message(*, kind: str, pk: int) -> EmailMessage | None:
    """The mail for a roster row or a pending role; None if the row is gone (or was claimed)."""
    if kind == "roster":
        entry = (
            RosterEntry.objects.select_related("edition__challenge")
            .filter(pk=pk, user__isnull=True)
            .first()
        )
        if entry is None:
            return None
        edition, to, template = entry.edition, entry.email, "roster_invitation"
        context = {"entry": entry, "link": _site_url(_claim_path(kind, entry))}
    else:
        row = (
            EditionRole.objects.select_related("edition__challenge", "added_by")
            .filter(pk=pk, user__isnull=True)
            .first()
        )
        if row is None:
            return None
        edition, to, template = row.edition, row.email, "role_invitation"
        context = {
            "row": row,
            "role": row.get_role_display().lower(),
            "link": _site_url(_claim_path(kind, row)),
        }
    context["edition"] = edition
    subject = render_to_string(f"leaderboard/emails/{template}_subject.txt", context).strip()
    return EmailMessage(
        subject=f"[Arena] {subject}",
        body=render_to_string(f"leaderboard/emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )


def people_mail_send(*, kind: str, pk: int) -> str:
    """Send it: "sent" or "skipped" (the row is gone). A failure raises (the task retries)."""
    message = people_message(kind=kind, pk=pk)
    if message is None:
        return "skipped"
    try:
        message.send(fail_silently=False)
    except Exception as exc:
        logger.warning("%s mail %s to %s failed: %r", kind, pk, message.to, exc)
        raise
    return "sent"


def _claim_path(kind: str, row: EditionRole | RosterEntry) -> str:
    """The row's link; a row invited before links existed gets its nonce now."""
    if not row.claim_nonce:
        row.claim_nonce = claim_nonce()
        type(row).objects.filter(pk=row.pk, claim_nonce="").update(claim_nonce=row.claim_nonce)
        row.refresh_from_db(fields=["claim_nonce"])
    return claim_path(kind=kind, pk=row.pk, nonce=row.claim_nonce)


def _site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _send(kind: str, pk: int) -> bool:
    try:
        with app.connection_for_write() as connection:
            app.send_task(
                PEOPLE_MAIL_TASK,
                args=[kind, pk],
                queue=settings.NOTIFICATIONS_QUEUE,
                connection=connection,
                retry=True,
                retry_policy=_RETRY_POLICY,
            )
    except Exception:  # the broker is down: log it, never fail the host's form
        logger.exception("could not queue %s mail %s", kind, pk)
        return False
    return True
