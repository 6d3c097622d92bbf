"""Reads for the host's People page: who runs the edition, and where each student on the
roster stands (has an account, joined, has a team, has submitted), in a fixed number of
queries whatever the roster's size."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count

from leaderboard.models import (
    Edition,
    EditionRole,
    Membership,
    Participant,
    RosterEntry,
    Submission,
    Team,
)

from .permissions import HOST


def edition_roles(*, edition: Edition) -> list[EditionRole]:
    """Hosts first, then assistants, then invitations still pending. An edition's creator from
    before roles is listed as its host (saved as a row at the first change)."""
    rows = list(EditionRole.objects.filter(edition=edition).select_related("user", "added_by"))
    if edition.host_id is not None and all(r.user_id != edition.host_id for r in rows):
        rows.append(EditionRole(edition=edition, user=edition.host, role=HOST))
    rows.sort(key=lambda r: (r.user_id is None, r.role != HOST, r.created_at, r.pk or 0))
    return rows


@dataclass(frozen=True)
class RosterStatus:
    entry: RosterEntry
    user: AbstractBaseUser | None  # the account that opened the row's claim link, if any
    joined: bool  # joined with the code or link, or is in a team
    team: Team | None
    submitted: int  # how many submissions the student's team has made

    @property
    def state(self) -> str:
        """One word for the table and its filter."""
        if self.user is None:
            return "not accepted"
        if not self.joined:
            return "not joined"
        if self.team is None:
            return "no team"
        return "submitted" if self.submitted else "in a team"


@dataclass(frozen=True)
class RosterSummary:
    rows: list[RosterStatus]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def joined(self) -> int:
        return sum(r.joined for r in self.rows)

    @property
    def in_team(self) -> int:
        return sum(r.team is not None for r in self.rows)

    @property
    def submitted(self) -> int:
        return sum(bool(r.submitted) for r in self.rows)

    @property
    def teamless_with_account(self) -> int:
        return sum(r.user is not None and r.team is None for r in self.rows)

    @property
    def waiting(self) -> int:
        """Rows whose student has not opened their link: one team per student skips them."""
        return sum(r.user is None for r in self.rows)


def roster_status(*, edition: Edition) -> list[RosterStatus]:
    """Each roster row with the student's account, admission, team and submissions. The account
    is the one that claimed the row through its mailed link, never one that merely uses the
    address (which may be unverified)."""
    entries = list(
        RosterEntry.objects.filter(edition=edition).select_related("user").order_by("name", "email")
    )
    ids = [e.user_id for e in entries if e.user_id is not None]
    joined = set(
        Participant.objects.filter(edition=edition, user_id__in=ids).values_list(
            "user_id", flat=True
        )
    )
    teams = {
        m.user_id: m.team
        for m in Membership.objects.filter(edition=edition, user_id__in=ids).select_related("team")
    }
    counts = dict(
        Submission.objects.filter(edition=edition, team_id__in={t.pk for t in teams.values()})
        .values("team_id")
        .annotate(n=Count("pk"))
        .values_list("team_id", "n")
    )
    rows = []
    for entry in entries:
        user = entry.user if entry.user is not None and entry.user.is_active else None
        team = teams.get(user.pk) if user else None
        rows.append(
            RosterStatus(
                entry=entry,
                user=user,
                joined=bool(user and (user.pk in joined or team is not None)),
                team=team,
                submitted=counts.get(team.pk, 0) if team else 0,
            )
        )
    return rows


def roster_summary(*, edition: Edition) -> RosterSummary:
    return RosterSummary(rows=roster_status(edition=edition))
