"""Claim links: proof that the person who takes a pending role or a roster row reads the mailbox
it was sent to. Verifying an address is optional (ACCOUNT_EMAIL_VERIFICATION), so nothing is
ever granted because an account's e-mail matches; only the signed-in user who opens the link
mailed to the address is.

A link is ``django.core.signing`` over (kind, row, nonce) with its own salt and a maximum age.
The nonce lives on the row: a new invitation draws a new one (the old link stops working), and
a claimed row records who claimed it and when, so a link works once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from leaderboard.models import EditionRole, Participant, RosterEntry
from leaderboard.selectors.permissions import HOST

SALT = "leaderboard.people.claim"
KINDS = ("role", "roster")


def claim_max_age() -> int:
    """Seconds a link stays good (``PEOPLE_CLAIM_MAX_AGE``, 30 days unless set)."""
    return int(getattr(settings, "PEOPLE_CLAIM_MAX_AGE", 30 * 24 * 3600))


@dataclass
class ClaimRefused(Exception):
    """The link cannot be used: ``status`` 400 (not a link of ours) or 410 (no longer good)."""

    message: str
    code: str
    status: int

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ClaimOffer:
    kind: str  # "role" or "roster"
    row: EditionRole | RosterEntry


def claim_nonce() -> str:
    return secrets.token_urlsafe(16)


def claim_token(*, kind: str, pk: int, nonce: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind of claim {kind!r}")
    return signing.dumps({"k": kind, "id": pk, "n": nonce}, salt=SALT, compress=True)


def claim_path(*, kind: str, pk: int, nonce: str) -> str:
    return reverse("people_claim", kwargs={"token": claim_token(kind=kind, pk=pk, nonce=nonce)})


def claim_read(*, token: str) -> ClaimOffer:
    """The invitation behind a link, still open; ClaimRefused saying what to do otherwise."""
    kind, pk, nonce = _payload(token)
    row = _row(kind=kind, pk=pk)
    _check_open(kind=kind, row=row, nonce=nonce)
    return ClaimOffer(kind=kind, row=row)


def claim_accept(*, token: str, user: AbstractBaseUser) -> ClaimOffer:
    """Give the signed-in ``user`` what the link offers, once: the role (a host invitation
    raises an assistant role they hold to host), or the roster row (and admission to the
    edition). The row is locked, so two tabs opening one link grant it once."""
    kind, pk, nonce = _payload(token)
    now = timezone.now()
    with transaction.atomic():
        row = _row(kind=kind, pk=pk, lock=True)
        _check_open(kind=kind, row=row, nonce=nonce)
        if kind == "role":
            _accept_role(row=row, user=user, now=now)
        else:
            _accept_roster(row=row, user=user, now=now)
    return ClaimOffer(kind=kind, row=row)


def _accept_role(*, row: EditionRole, user: AbstractBaseUser, now) -> None:
    held = EditionRole.objects.filter(edition_id=row.edition_id, user=user).first()
    if held is None:
        row.user, row.claimed_at, row.claim_nonce = user, now, ""
        row.save(update_fields=["user", "claimed_at", "claim_nonce"])
        return
    if row.role == HOST and held.role != HOST:
        held.role = HOST
        held.save(update_fields=["role"])
    row.delete()  # used up: the role it offered is the account's (or already was)


def _accept_roster(*, row: RosterEntry, user: AbstractBaseUser, now) -> None:
    other = RosterEntry.objects.filter(edition_id=row.edition_id, user=user).first()
    if other is not None:
        raise ClaimRefused(
            f"Your account is already on this class list as {other.name} <{other.email}>. "
            "Log in with another account to accept this invitation, or ask the host.",
            code="claim_other_row",
            status=400,
        )
    row.user, row.claimed_at, row.claim_nonce = user, now, ""
    try:
        with transaction.atomic():
            row.save(update_fields=["user", "claimed_at", "claim_nonce"])
    except IntegrityError:  # the same account claimed another row at this instant
        raise ClaimRefused(
            "Your account is already on this class list.", code="claim_other_row", status=400
        ) from None
    Participant.objects.get_or_create(
        edition_id=row.edition_id, user=user, defaults={"joined_at": now}
    )


def _payload(token: str) -> tuple[str, int, str]:
    try:
        data = signing.loads(token, salt=SALT, max_age=claim_max_age())
    except signing.SignatureExpired:
        raise ClaimRefused(
            "This invitation link has expired. Ask the host to send the invitation again; "
            "the new mail carries a fresh link.",
            code="claim_expired",
            status=410,
        ) from None
    except signing.BadSignature:
        raise ClaimRefused(
            "This is not a valid invitation link: it may have been cut short or changed. Open "
            "the link exactly as it is in the mail, or ask the host to send it again.",
            code="claim_bad",
            status=400,
        ) from None
    try:
        kind, pk, nonce = data["k"], int(data["id"]), str(data["n"])
    except (KeyError, TypeError, ValueError):
        raise ClaimRefused(
            "This is not a valid invitation link.", code="claim_bad", status=400
        ) from None
    if kind not in KINDS or not nonce:
        raise ClaimRefused("This is not a valid invitation link.", code="claim_bad", status=400)
    return kind, pk, nonce


_GONE = (
    "This invitation is no longer open: the host withdrew it or took you off the list. Ask "
    "the host to invite you again."
)


def _row(*, kind: str, pk: int, lock: bool = False) -> EditionRole | RosterEntry:
    model = EditionRole if kind == "role" else RosterEntry
    rows = model.objects.select_related("edition__challenge", "user")
    if lock:
        rows = rows.select_for_update(of=("self",))
    row = rows.filter(pk=pk).first()
    if row is None:
        raise ClaimRefused(_GONE, code="claim_gone", status=410)
    return row


def _check_open(*, kind: str, row: EditionRole | RosterEntry, nonce: str) -> None:
    if row.claimed_at is not None or (kind == "roster" and row.user_id is not None):
        raise ClaimRefused(
            "This invitation link has already been used. If that was you, just log in; "
            "otherwise ask the host to look at the People page.",
            code="claim_used",
            status=410,
        )
    if kind == "role" and row.user_id is not None:
        raise ClaimRefused(_GONE, code="claim_gone", status=410)
    if not secrets.compare_digest(row.claim_nonce or "", nonce):
        raise ClaimRefused(
            "This invitation link was replaced by a newer invitation. Use the link in the "
            "latest mail, or ask the host to send it again.",
            code="claim_replaced",
            status=410,
        )
