"""The roster: a host uploads a CSV of the students they expect (e-mail, name, optional team);
each is invited by e-mail with a signed claim link (``claims``): the account that opens it
becomes that row's student and joins the edition; the host may have a team made for each.

A file with any bad row imports nothing, and every bad row is named (its line, what is wrong).
Rows are keyed by e-mail (case-blind), so uploading a corrected file again updates the rows
instead of adding copies.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from leaderboard.errors import ClassroomRefused
from leaderboard.models import Edition, Membership, RosterEntry, Team
from leaderboard.selectors.people import roster_status
from leaderboard.selectors.permissions import can_host

from ..codes import code_assign
from .claims import claim_nonce
from .mail import people_mail_enqueue

MAX_BYTES = 2 * 2**20
MAX_ROWS = 5000
EMAIL_COLUMNS = ("email", "e-mail", "mail", "email address", "e-mail address")
NAME_COLUMNS = ("name", "full name", "student", "student name")
TEAM_COLUMNS = ("team", "team name", "group")


@dataclass(frozen=True)
class RosterRow:
    line: int  # in the file, the header being line 1
    email: str
    name: str
    team: str


@dataclass
class RosterRefused(Exception):
    """The file is refused whole; ``problems`` are (line, what is wrong), line 0 the file."""

    problems: list[tuple[int, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"line {n}: {text}" if n else text for n, text in self.problems)


@dataclass(frozen=True)
class RosterImport:
    created: int
    updated: int
    unchanged: int
    invited: int


def roster_parse(data: bytes) -> list[RosterRow]:
    """Read the CSV (UTF-8, a header row naming the columns); RosterRefused naming each bad
    row, or the whole file's problem."""
    if len(data) > MAX_BYTES:
        raise RosterRefused([(0, f"The file is over {MAX_BYTES // 2**20} MB.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RosterRefused([(line, "not UTF-8 text; save the file as CSV UTF-8.")]) from None
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    header = next(reader, None)
    if not header:
        raise RosterRefused([(0, "The file is empty; it needs a header row: email,name,team.")])
    columns = [cell.strip().lower() for cell in header]
    where = {name: _column(columns, names) for name, names in _COLUMNS.items()}
    missing = [name for name in ("email", "name") if where[name] is None]
    if missing:
        raise RosterRefused(
            [(1, f"the header has no {' or '.join(missing)} column (found: {', '.join(columns)}).")]
        )
    rows: list[RosterRow] = []
    problems: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are allowed
        if len(rows) + len(problems) >= MAX_ROWS:
            raise RosterRefused([(line, f"more than {MAX_ROWS} rows; split the file.")])
        email, name, team = (_cell(cells, where[key]) for key in ("email", "name", "team"))
        wrong = _row_problems(email=email, name=name, team=team)
        if email and not wrong:
            seen = first_line.setdefault(email.lower(), line)
            if seen != line:
                wrong.append(f"{email} is already on line {seen}.")
        if wrong:
            problems.append((line, " ".join(wrong)))
        else:
            rows.append(RosterRow(line=line, email=email, name=name, team=team))
    if problems:
        raise RosterRefused(problems)
    if not rows:
        raise RosterRefused([(0, "The file has a header but no students.")])
    return rows


def roster_import(
    *, edition: Edition, by: AbstractBaseUser, data: bytes, invite: bool = True
) -> RosterImport:
    """Import the file whole or not at all; with ``invite``, mail a claim link to each student
    not invited before."""
    _check_host(edition=edition, by=by)
    rows = roster_parse(data)
    now = timezone.now()
    created = updated = unchanged = 0
    with transaction.atomic():
        Edition.objects.select_for_update().filter(pk=edition.pk).first()  # one upload at a time
        existing = {
            entry.email.lower(): entry
            for entry in RosterEntry.objects.select_for_update().filter(edition=edition)
        }
        for row in rows:
            entry = existing.get(row.email.lower())
            if entry is None:
                existing[row.email.lower()] = RosterEntry.objects.create(
                    edition=edition,
                    email=row.email,
                    name=row.name,
                    team_name=row.team,
                    created_at=now,
                    updated_at=now,
                )
                created += 1
            elif (entry.name, entry.team_name, entry.email) != (row.name, row.team, row.email):
                entry.name, entry.team_name, entry.email = row.name, row.team, row.email
                entry.updated_at = now
                entry.save(update_fields=["name", "team_name", "email", "updated_at"])
                updated += 1
            else:
                unchanged += 1
        invited = 0
        if invite:
            fresh = [e.pk for e in existing.values() if e.invited_at is None]
            invited = _invite(edition=edition, entry_ids=fresh, now=now)
    return RosterImport(created=created, updated=updated, unchanged=unchanged, invited=invited)


def roster_invite(
    *, edition: Edition, by: AbstractBaseUser, entry_ids: Iterable[int] | None = None
) -> int:
    """Mail a fresh claim link (the old one stops working): to ``entry_ids``, or to every
    student who has not accepted yet."""
    _check_host(edition=edition, by=by)
    if entry_ids is None:
        entry_ids = [row.entry.pk for row in roster_status(edition=edition) if row.user is None]
    with transaction.atomic():
        return _invite(edition=edition, entry_ids=list(entry_ids), now=timezone.now())


def roster_teams_make(*, edition: Edition, by: AbstractBaseUser) -> int:
    """A team for each student on the roster who accepted their invitation (the row's account,
    never one found by its address) and has no team yet: the team the roster names (made once,
    filled up to the edition's size), else a team of their own named after their username. Rows
    not accepted yet are skipped. Returns how many students were placed."""
    _check_host(edition=edition, by=by)
    placed = 0
    with transaction.atomic():
        Edition.objects.select_for_update().filter(pk=edition.pk).first()
        for row in roster_status(edition=edition):
            if row.user is None or row.team is not None:
                continue
            # A team of one is named after the username, as a first submission names it: the
            # roster's real names stay off the public board.
            name = row.entry.team_name or row.user.get_username()
            team = _team_for(edition=edition, name=name, shared=bool(row.entry.team_name))
            if team is None:
                continue  # the named team is full: the host sees the student still without one
            try:
                with transaction.atomic():
                    Membership.objects.create(team=team, user=row.user, edition=edition)
            except IntegrityError:
                continue  # joined a team meanwhile
            placed += 1
    return placed


def roster_remove(*, edition: Edition, by: AbstractBaseUser, entry_id: int) -> None:
    """Take one student off the roster (their account, team and entries stay)."""
    _check_host(edition=edition, by=by)
    RosterEntry.objects.filter(edition=edition, pk=entry_id).delete()


def _team_for(*, edition: Edition, name: str, shared: bool) -> Team | None:
    """The roster's named team (None when full), or a new team of one with a free name."""
    name = name.strip()[:150]
    if shared:
        team = Team.objects.filter(edition=edition, name__iexact=name).first()
        if team is not None:
            if Membership.objects.filter(team=team).count() >= edition.max_team_size:
                return None
            return team
    else:
        base, n = name, 2
        while Team.objects.filter(edition=edition, name__iexact=name).exists():
            name = f"{base} ({n})"[:150]
            n += 1
    team = Team.objects.create(edition=edition, name=name)

    def save(code: str) -> None:
        Team.objects.filter(pk=team.pk, join_code="").update(join_code=code)

    code_assign(save=save)
    return team


def _invite(*, edition: Edition, entry_ids: list[int], now) -> int:
    """Queue a mail to each unclaimed row, each with a fresh claim link (the old one dies)."""
    ids = list(
        RosterEntry.objects.filter(edition=edition, pk__in=entry_ids, user__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        RosterEntry.objects.filter(pk=pk).update(
            invited_at=now, invitations=F("invitations") + 1, claim_nonce=claim_nonce()
        )
        people_mail_enqueue(kind="roster", pk=pk)
    return len(ids)


def _row_problems(*, email: str, name: str, team: str) -> list[str]:
    wrong = []
    if not email:
        wrong.append("the e-mail is empty.")
    else:
        try:
            validate_email(email)
        except ValidationError:
            wrong.append(f"{email!r} is not an e-mail address.")
    if not name:
        wrong.append("the name is empty.")
    elif len(name) > 200:
        wrong.append("the name is over 200 characters.")
    if len(team) > 150:
        wrong.append("the team name is over 150 characters.")
    return wrong


_COLUMNS = {"email": EMAIL_COLUMNS, "name": NAME_COLUMNS, "team": TEAM_COLUMNS}


def _column(columns: list[str], names: tuple[str, ...]) -> int | None:
    for i, column in enumerate(columns):
        if column in names:
            return i
    return None


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return " ".join(cells[index].split())


def _dialect(text: str) -> type[csv.Dialect]:
    """Commas, or the semicolons spreadsheet programs write in many locales."""
    first = text.split("\n", 1)[0]
    return _Semicolon if first.count(";") > first.count(",") else csv.excel


class _Semicolon(csv.excel):
    delimiter = ";"


def _check_host(*, edition: Edition, by: AbstractBaseUser) -> None:
    if not can_host(user=by, edition=edition):
        raise ClassroomRefused("Only the edition's hosts manage its roster.", code="not_host")
