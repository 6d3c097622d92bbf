"""Classroom editions: an instructor creates and runs one; students join it with its code."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from leaderboard.errors import ClassroomRefused
from leaderboard.models import Challenge, Edition, Participant

from .activity import activity_rebuild
from .codes import code_assign
from .edition_baselines import edition_baselines_enter
from .people.roles import roles_for_new_edition

# What a host may change after creating an edition (the challenge and year stay).
EDITABLE = (
    "title",
    "opens_at",
    "closes_at",
    "time_zone",
    "daily_limit",
    "total_limit",
    "max_upload_mb",
    "max_team_size",
    "final_submissions",
    "join_required",
)


def edition_create(
    *,
    challenge: Challenge,
    host: AbstractBaseUser | None,
    year: int,
    slug: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    title: str = "",
    time_zone: str = "UTC",
    daily_limit: int = 5,
    total_limit: int = 100,
    max_upload_mb: int = 500,
    max_team_size: int = 3,
    final_submissions: int = 2,
    join_required: bool = True,
) -> Edition:
    """Create the edition with a fresh join code, the challenge's hosts as its hosts beside
    ``host``, and the challenge's baselines (their scores copied where the set is the one they
    were scored on, else queued); ValidationError for bad values or a taken slug."""
    edition = Edition(
        challenge=challenge,
        host=host,
        year=year,
        slug=slug,
        title=title.strip(),
        opens_at=opens_at,
        closes_at=closes_at,
        time_zone=time_zone,
        daily_limit=daily_limit,
        total_limit=total_limit,
        max_upload_mb=max_upload_mb,
        max_team_size=max_team_size,
        final_submissions=final_submissions,
        join_required=join_required,
    )
    edition.full_clean(exclude=["join_code"])
    try:
        with transaction.atomic():
            edition.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"slug": "This challenge already has an edition with that slug."}
        ) from exc
    edition_join_code_renew(edition=edition)
    roles_for_new_edition(edition=edition, added_by=host)  # its creator and the challenge's hosts
    edition_baselines_enter(edition=edition)
    return edition


def edition_update(*, edition: Edition, changes: dict[str, object]) -> Edition:
    """Change the host-editable settings; anything else in ``changes`` is a programming error."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    rezoned = changes.get("time_zone", edition.time_zone) != edition.time_zone
    for field, value in changes.items():
        setattr(edition, field, value)
    edition.full_clean()
    with transaction.atomic():
        edition.save(update_fields=list(changes))
        if rezoned:  # the charts' days are counted again in the new time zone
            activity_rebuild(edition=edition)
    return edition


def edition_join_code_renew(*, edition: Edition) -> str:
    """A new join code (and so a new invite link); the old one stops working at once."""

    def save(code: str) -> None:
        Edition.objects.filter(pk=edition.pk).update(join_code=code)

    edition.join_code = code_assign(save=save)
    return edition.join_code


def edition_join(
    *, edition: Edition, user: AbstractBaseUser, code: str, now: dt.datetime | None = None
) -> Participant:
    """Admit the user with the edition's code (again: returns the existing admission)."""
    now = now or timezone.now()
    if edition.is_closed(now=now):
        raise ClassroomRefused(f"{edition.display_name} has closed.", code="edition_closed")
    if not edition.join_code or code.strip().upper() != edition.join_code:
        raise ClassroomRefused("That is not this edition's join code.", code="bad_join_code")
    participant, _ = Participant.objects.get_or_create(
        edition=edition, user=user, defaults={"joined_at": now}
    )
    return participant
