"""Hosts and teaching assistants of an edition: added by a host (by username or e-mail),
changed, removed. An e-mail address always becomes a pending invitation, granted only to the
signed-in user who opens the signed link mailed to it (``claims``): an account's address may be
unverified, so an account that merely uses the address gets nothing.

An edition keeps at least one host: the last one can be neither removed nor made an assistant.
``Edition.host`` (the creator) stays set only while that user is a host.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from leaderboard.errors import ClassroomRefused
from leaderboard.models import Edition, EditionRole
from leaderboard.selectors.permissions import HOST, can_host, challenge_hosts_ids

from .claims import claim_nonce
from .mail import people_mail_enqueue

Role = EditionRole.Role


def role_add(*, edition: Edition, by: AbstractBaseUser, who: str, role: str) -> EditionRole:
    """Give ``who`` a role: a username at once; an e-mail address (whether or not an account
    uses it) becomes a pending invitation, mailed with its claim link."""
    _check_host(edition=edition, by=by)
    role = _check_role(role)
    who = who.strip()
    if not who:
        raise ClassroomRefused("Give a username or an e-mail address.", code="who_required")
    with transaction.atomic():
        _ensure_creator(edition=edition)
        user = _find_user(who)
        if user is None:  # an address: invite it, whoever uses it
            if EditionRole.objects.filter(
                edition=edition, user__isnull=True, email__iexact=who
            ).exists():
                raise ClassroomRefused(
                    f"{who} is already invited; use Mail again in the list.", code="role_exists"
                )
            row = EditionRole.objects.create(
                edition=edition, email=who, role=role, added_by=by, claim_nonce=claim_nonce()
            )
            people_mail_enqueue(kind="role", pk=row.pk)
            return row
        existing = EditionRole.objects.filter(edition=edition, user=user).first()
        if existing is not None:
            raise ClassroomRefused(
                f"{user.get_username()} is already {existing.get_role_display().lower()} here; "
                "change their role in the list.",
                code="role_exists",
            )
        return EditionRole.objects.create(edition=edition, user=user, role=role, added_by=by)


def role_set(*, edition: Edition, by: AbstractBaseUser, role_id: int, role: str) -> EditionRole:
    """Change one person's role; the last host stays a host."""
    _check_host(edition=edition, by=by)
    role = _check_role(role)
    with transaction.atomic():
        locked = _lock(edition)
        row = _row(edition=locked, role_id=role_id)
        if row.role == HOST and role != HOST:
            _check_not_last_host(edition=locked, row=row)
        row.role = role
        row.save(update_fields=["role"])
        if role != HOST:
            _drop_creator(edition=edition, row=row)
    return row


def role_remove(*, edition: Edition, by: AbstractBaseUser, role_id: int) -> None:
    """Take one person's role away (or withdraw an invitation); never the last host's."""
    _check_host(edition=edition, by=by)
    with transaction.atomic():
        locked = _lock(edition)
        row = _row(edition=locked, role_id=role_id)
        if row.role == HOST:
            _check_not_last_host(edition=locked, row=row)
        _drop_creator(edition=edition, row=row)
        row.delete()


def role_invite_again(*, edition: Edition, by: AbstractBaseUser, role_id: int) -> EditionRole:
    """Mail a pending invitation again with a fresh link; the old link stops working."""
    _check_host(edition=edition, by=by)
    with transaction.atomic():
        row = _row(edition=edition, role_id=role_id)
        if not row.pending:
            raise ClassroomRefused(
                f"{row.user.get_username()} already accepted.", code="role_claimed"
            )
        row.claim_nonce = claim_nonce()
        row.save(update_fields=["claim_nonce"])
        people_mail_enqueue(kind="role", pk=row.pk)
    return row


def roles_for_new_edition(*, edition: Edition, added_by: AbstractBaseUser | None = None) -> int:
    """The challenge's hosts (its creator, the hosts of its other editions) host the new
    edition too, beside its creator; returns how many rows were added."""
    ids = challenge_hosts_ids(challenge=edition.challenge)
    if edition.host_id is not None:
        ids.add(edition.host_id)
    taken = set(
        EditionRole.objects.filter(edition=edition, user__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    rows = [
        EditionRole(edition=edition, user_id=pk, role=HOST, added_by=added_by)
        for pk in sorted(ids - taken)
    ]
    EditionRole.objects.bulk_create(rows)
    return len(rows)


def _find_user(who: str) -> AbstractBaseUser | None:
    """The account named by a username; None for an e-mail address (never matched to an
    account: see the module's note); refused for an unknown username or a bad address."""
    users = get_user_model().objects.filter(is_active=True)
    if "@" not in who:
        user = users.filter(username=who).first()
        if user is None:
            raise ClassroomRefused(
                f"No account is called {who!r}. Give an e-mail address to invite someone who "
                "has no account yet.",
                code="unknown_user",
            )
        return user
    try:
        validate_email(who)
    except ValidationError:
        raise ClassroomRefused(f"{who!r} is not an e-mail address.", code="bad_email") from None
    return None


def _ensure_creator(*, edition: Edition) -> None:
    """An edition made before roles, or by code that set only ``host``: its host gets a row."""
    if edition.host_id is not None:
        EditionRole.objects.get_or_create(
            edition=edition, user_id=edition.host_id, defaults={"role": HOST}
        )


def _lock(edition: Edition) -> Edition:
    """The edition row locked, so that two hosts removing each other leave one."""
    locked = Edition.objects.select_for_update().get(pk=edition.pk)
    _ensure_creator(edition=locked)
    return locked


def _row(*, edition: Edition, role_id: int) -> EditionRole:
    row = EditionRole.objects.filter(edition=edition, pk=role_id).first()
    if row is None:
        raise ClassroomRefused("No such person in this edition.", code="no_such_role")
    return row


def _check_not_last_host(*, edition: Edition, row: EditionRole) -> None:
    if row.user_id is None:
        return  # a pending invitation hosts nothing yet
    others = (
        EditionRole.objects.filter(edition=edition, role=HOST, user__isnull=False)
        .exclude(pk=row.pk)
        .exists()
    )
    if not others:
        raise ClassroomRefused(
            "An edition keeps at least one host: add another host first.", code="last_host"
        )


def _drop_creator(*, edition: Edition, row: EditionRole) -> None:
    if row.user_id is not None and edition.host_id == row.user_id:
        Edition.objects.filter(pk=edition.pk).update(host=None)
        edition.host = None


def _check_host(*, edition: Edition, by: AbstractBaseUser) -> None:
    if not can_host(user=by, edition=edition):
        raise ClassroomRefused("Only the edition's hosts change its people.", code="not_host")


def _check_role(role: str) -> str:
    if role not in Role.values:
        raise ClassroomRefused(f"Unknown role {role!r}.", code="bad_role")
    return role
