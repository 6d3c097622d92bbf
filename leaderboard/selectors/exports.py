"""Rows for the host's CSV exports: the final standings and every submission, for grading."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Prefetch
from django.utils import timezone

from leaderboard.errors import PLATFORM_ERROR_CODES
from leaderboard.models import Edition, Membership, Metric, Submission, Team

from .leaderboard import PRIVATE, leaderboard_rows

STANDINGS_COLUMNS = [
    "rank",
    "team",
    "members",
    "emails",
    "submission_id",
    "method",
    "chosen_as",
    "private_top5_error",
    "private_top1_error",
    "public_top5_error",
    "public_top1_error",
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
    "public_top5_error",
    "public_top1_error",
    "private_top5_error",
    "private_top1_error",
    "top5_error",
    "top1_error",
    "params",
    "throughput_img_s",
]


def export_standings(*, edition: Edition) -> list[dict]:
    """The private (final) ranking over each team's finals, then teams with no ranked entry.

    Before the edition closes this is what the standings would be if it closed now.
    """
    metric = Metric(edition.challenge.primary_metric)
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
                "private_top5_error": score.private_top5_error,
                "private_top1_error": score.private_top1_error,
                "public_top5_error": score.public_top5_error,
                "public_top1_error": score.public_top1_error,
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
                s.status == Submission.Status.FAILED and s.error_code in PLATFORM_ERROR_CODES
            ),
            "is_final": s.is_final,
            "moderation": s.moderation,
            "moderation_reason": s.moderation_reason,
            "public_top5_error": score.public_top5_error if score else None,
            "public_top1_error": score.public_top1_error if score else None,
            "private_top5_error": score.private_top5_error if score else None,
            "private_top1_error": score.private_top1_error if score else None,
            "top5_error": score.top5_error if score else None,
            "top1_error": score.top1_error if score else None,
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
