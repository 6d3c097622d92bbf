"""Rows for the host's CSV exports: the final standings and every submission, for grading."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Prefetch
from django.utils import timezone

from leaderboard.errors import PLATFORM_ERROR_CODES
from leaderboard.metrics import ALL, METRICS, PRIVATE, PUBLIC, metric_get
from leaderboard.models import Edition, Membership, Submission, Team

from .leaderboard import leaderboard_rows

# Every registered metric on each part, in the registry's order (``leaderboard.metrics``).
_SCORE_COLUMNS = [m.column(part) for part in (PUBLIC, PRIVATE, ALL) for m in METRICS]
_PART_COLUMNS = [m.column(part) for part in (PUBLIC, PRIVATE) for m in METRICS]


def standings_columns(*, edition: Edition) -> list[str]:
    """The standings' header: the private part's metrics first, the ranking one leading."""
    ranked = metric_get(edition.challenge.primary_metric)
    order = [ranked, *(m for m in METRICS if m != ranked)]
    return [
        "rank",
        "team",
        "members",
        "emails",
        "submission_id",
        "method",
        "chosen_as",
        *(m.column(part) for part in (PRIVATE, PUBLIC) for m in order),
        "scored_entries",
        "moderation",
        "moderation_reason",
        "submitted_at",
    ]


SUBMISSION_COLUMNS = [
    "submission_id",
    "team",
    "members",
    "submitted_by",
    "submitted_at",
    "method",
    "arch",
    "format",
    "original_name",
    "status",
    "error_code",
    "counts_against_limits",
    "is_final",
    "moderation",
    "moderation_reason",
    *_SCORE_COLUMNS,
    "params",
    "throughput_img_s",
]


def export_standings(*, edition: Edition) -> list[dict]:
    """The private (final) ranking over each team's finals, then teams with no ranked entry.

    Before the edition closes this is what the standings would be if it closed now.
    """
    metric = edition.challenge.primary_metric
    rows = [
        r
        for r in leaderboard_rows(edition=edition, phase=PRIVATE, metric=metric)
        if not r.is_baseline
    ]
    teams = {team.pk: team for team in _teams(edition)}
    ranked = [r.pk for r in rows]
    scores = {
        s.pk: s.score for s in Submission.objects.filter(pk__in=ranked).select_related("score")
    }
    out = []
    for row in rows:
        team = teams.get(row.team_id)
        score = scores[row.pk]
        out.append(
            {
                "rank": row.position,
                "team": row.team_name,
                **_members(team),
                "submission_id": str(row.pk),
                "method": row.method_name,
                "chosen_as": "final" if row.is_final else "best public (no finals chosen)",
                **{c: getattr(score, c) for c in _PART_COLUMNS},
                "scored_entries": row.team_entries,
                "moderation": row.moderation,
                "moderation_reason": row.moderation_reason,
                "submitted_at": _iso(row.created_at, edition),
            }
        )
    shown = {row.team_id for row in rows}
    for team in teams.values():
        if team.pk not in shown:
            out.append({"rank": "", "team": team.name, **_members(team), "scored_entries": 0})
    return out


def export_submissions(*, edition: Edition) -> Iterator[dict]:
    """Every participant submission, oldest first, streamed from the database in chunks."""
    teams = {team.pk: team for team in _teams(edition)}
    rows = (
        Submission.objects.filter(edition=edition, is_baseline=False)
        .select_related("score", "submitted_by")
        .order_by("created_at", "pk")
    )
    for s in rows.iterator(chunk_size=2000):
        score = getattr(s, "score", None) if s.status == Submission.Status.SCORED else None
        record = score.record if score else {}
        yield {
            "submission_id": str(s.pk),
            "team": teams[s.team_id].name if s.team_id in teams else "",
            "members": _members(teams.get(s.team_id))["members"],
            "submitted_by": s.submitted_by.get_username() if s.submitted_by else "",
            "submitted_at": _iso(s.created_at, edition),
            "method": s.method_name,
            "arch": s.arch,
            "format": s.format,
            "original_name": s.original_name,
            "status": s.status,
            "error_code": s.error_code,
            "counts_against_limits": not (
                s.status == Submission.Status.FAILED
                and s.error_code in PLATFORM_ERROR_CODES
                and not s.reruns  # a host's re-run never refunds (selectors.quota)
            ),
            "is_final": s.is_final,
            "moderation": s.moderation,
            "moderation_reason": s.moderation_reason,
            **{column: getattr(score, column) if score else None for column in _SCORE_COLUMNS},
            "params": record.get("params"),
            "throughput_img_s": record.get("throughput_img_s"),
        }


def _teams(edition: Edition) -> list[Team]:
    return list(
        Team.objects.filter(edition=edition)
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("user").order_by("user__username"),
            )
        )
        .order_by("name")
    )


def _members(team: Team | None) -> dict[str, str]:
    users = [m.user for m in team.memberships.all()] if team else []
    return {
        "members": " ".join(u.get_username() for u in users),
        "emails": " ".join(u.email for u in users if u.email),
    }


def _iso(value: dt.datetime, edition: Edition) -> str:
    return timezone.localtime(value, edition.tzinfo).isoformat(timespec="seconds")
