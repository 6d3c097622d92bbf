"""An edition's grades: its grading rule applied to the private (final) board.

The board is the one ranking (``selectors.ranking``) by the challenge's ranking metric on the
private part, over each team's finals, exactly as the final standings and their CSV; the maths
is ``leaderboard.grading``. Before the edition closes this is what the grades would be if it
closed now. Every team is graded (one with no scored entry gets the rule's points for that),
and each member gets the team's grade; a participant who joined but has no team gets the points
of a team with no entry, so the gradebook lists the whole class.

Two CSV layouts:
- ``plain``: one row per student with the team, its rank, the error (a fraction, named so),
  the points and why; Moodle's CSV import reads it as it is (identify users by "Email address"
  or "Username", map the points column to a grade item and "Why" to its feedback);
- ``canvas``: the columns of a Canvas gradebook export (Student, ID, SIS User ID, SIS Login ID,
  Section), then one column named after the assignment holding the points. Canvas creates the
  assignment on import; it matches students by SIS Login ID, which we fill with the e-mail
  address (else the username), as Canvas logins often are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch

from leaderboard import grading
from leaderboard.metrics import PRIVATE, RankedMetric, metric_get
from leaderboard.models import Edition, GradingRule, Membership, Participant, Submission, Team

from .leaderboard import leaderboard_rows

PLAIN, CANVAS = "plain", "canvas"
LAYOUTS = (PLAIN, CANVAS)


@dataclass(frozen=True)
class StudentGrade:
    user: AbstractBaseUser
    team: str  # "" for a participant without a team
    grade: grading.Grade


@dataclass(frozen=True)
class Gradebook:
    edition: Edition
    rule: GradingRule | None  # None: the host has not set one yet
    metric: RankedMetric
    baselines: list[Submission] = field(default_factory=list)  # the board's, with metric_value
    teams: list[grading.Grade] = field(default_factory=list)  # best rank first
    students: list[StudentGrade] = field(default_factory=list)
    most: Decimal = Decimal(0)  # the most points the rule gives
    summary: str = ""  # the rule in one sentence

    @property
    def team_rows(self) -> list[tuple[grading.Grade, list[str]]]:
        """Each team's grade with its members' usernames (the preview's rows)."""
        members: dict[object, list[str]] = {}
        for student in self.students:
            if student.grade.key is not None:
                members.setdefault(student.grade.key, []).append(student.user.get_username())
        return [(grade, members.get(grade.key, [])) for grade in self.teams]

    @property
    def without_team(self) -> list[StudentGrade]:
        return [student for student in self.students if student.grade.key is None]

    @property
    def error_column(self) -> str:
        """The error's column: says the part, the metric and that it is a fraction."""
        return f"{PRIVATE}_{self.metric.field}_fraction"


def edition_gradebook(*, edition: Edition) -> Gradebook:
    """The rule applied to the private board now (no grades while no rule is set)."""
    metric = metric_get(edition.challenge.primary_metric)
    rows = leaderboard_rows(edition=edition, phase=PRIVATE, metric=metric.key)
    baselines = [r for r in rows if r.is_baseline]
    rule = GradingRule.objects.filter(edition=edition).select_related("bonus_baseline").first()
    if rule is None:
        return Gradebook(edition=edition, rule=None, metric=metric, baselines=baselines)
    errors = {r.team_id: r.metric_value for r in rows if not r.is_baseline}
    teams = _teams(edition)
    entries = [grading.Entry(key=t.pk, name=t.name, error=errors.get(t.pk)) for t in teams]
    baseline_error = next(
        (r.metric_value for r in baselines if r.pk == rule.bonus_baseline_id), None
    )
    plain = rule.as_rule(baseline_error=baseline_error)
    grades = grading.grade_teams(
        rule=plain,
        entries=entries,
        label=metric.label.lower(),
        show=metric.format,
    )
    members = {t.pk: [m.user for m in t.memberships.all()] for t in teams}
    students = [
        StudentGrade(user=user, team=g.name, grade=g) for g in grades for user in members[g.key]
    ]
    alone = _without_team(edition)
    if alone:
        points = Decimal(plain.unranked_points).quantize(grading.CENT)
        why = f"not in a team, so no scored entry: {grading.points_text(points)} points"
        none = grading.Grade(key=None, name="", rank=None, error=None, points=points, why=why)
        students += [StudentGrade(user=user, team="", grade=none) for user in alone]
    return Gradebook(
        edition=edition,
        rule=rule,
        metric=metric,
        baselines=baselines,
        teams=grades,
        students=students,
        most=grading.max_points(plain),
        summary=grading.describe(plain, label=metric.label.lower(), show=metric.format),
    )


def grade_columns(*, book: Gradebook, layout: str) -> list[str]:
    if layout == CANVAS:
        assert book.rule is not None
        return [
            "Student",
            "ID",
            "SIS User ID",
            "SIS Login ID",
            "Section",
            book.rule.assignment_name,
        ]
    return [
        "First name",
        "Last name",
        "Username",
        "Email address",
        "Team",
        "Rank",
        book.error_column,
        "Points",
        "Why",
    ]


def grade_rows(*, book: Gradebook, layout: str) -> Iterator[dict]:
    """One row per student, in the order of the grades (best team first)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    for student in book.students:
        user, grade = student.user, student.grade
        points = grading.points_text(grade.points)
        if layout == CANVAS:
            assert book.rule is not None
            yield {
                "Student": _sortable_name(user),
                "ID": "",
                "SIS User ID": "",
                "SIS Login ID": user.email or user.get_username(),
                "Section": "",
                book.rule.assignment_name: points,
            }
            continue
        yield {
            "First name": user.first_name,
            "Last name": user.last_name,
            "Username": user.get_username(),
            "Email address": user.email,
            "Team": student.team,
            "Rank": grade.rank if grade.rank is not None else "",
            book.error_column: grade.error if grade.error is not None else "",
            "Points": points,
            "Why": grade.why,
        }


def _sortable_name(user: AbstractBaseUser) -> str:
    """Canvas's "Student" column: "Last, First", else the username."""
    if user.last_name and user.first_name:
        return f"{user.last_name}, {user.first_name}"
    return user.get_full_name() or user.get_username()


def _teams(edition: Edition) -> list[Team]:
    members = Membership.objects.select_related("user").order_by("user__username")
    return list(
        Team.objects.filter(edition=edition)
        .prefetch_related(Prefetch("memberships", queryset=members))
        .order_by("name", "pk")
    )


def _without_team(edition: Edition) -> list[AbstractBaseUser]:
    in_teams = Membership.objects.filter(edition=edition).values("user_id")
    return [
        p.user
        for p in Participant.objects.filter(edition=edition)
        .exclude(user_id__in=in_teams)
        .select_related("user")
        .order_by("user__username")
    ]
