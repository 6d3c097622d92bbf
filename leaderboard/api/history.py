"""A challenge's year-by-year history: per edition the winner, the runner-up, the best baseline
and the counts, in one SQL query whatever the number of submissions.

The ranking is the leaderboard's (``selectors.leaderboard``): best entry per team, by the
challenge's primary metric, ties to the earlier submission; private part once an edition has
closed, public part while it runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.shortcuts import get_object_or_404
from django.utils import timezone

from leaderboard.models import Challenge, Edition, Metric, Score, Submission, Team

_OTHER = {Metric.TOP5: Metric.TOP1, Metric.TOP1: Metric.TOP5}

_SQL = """
WITH editions AS (
    SELECT e.id, e.year, e.slug, e.closes_at, (e.closes_at <= %s) AS closed
    FROM {edition} e WHERE e.challenge_id = %s
),
scored AS (
    SELECT s.id, s.edition_id, s.team_id, s.is_baseline, s.created_at,
           CASE WHEN ed.closed THEN sc.private_{metric}_error
                ELSE sc.public_{metric}_error END AS metric,
           CASE WHEN ed.closed THEN sc.private_{other}_error
                ELSE sc.public_{other}_error END AS other
    FROM {submission} s
    JOIN {score} sc ON sc.submission_id = s.id
    JOIN editions ed ON ed.id = s.edition_id
    WHERE s.status = %s
),
team_best AS (
    SELECT scored.*,
           ROW_NUMBER() OVER (
               PARTITION BY edition_id, team_id ORDER BY metric, created_at, id
           ) AS team_position
    FROM scored
    WHERE is_baseline = %s AND metric IS NOT NULL
),
ranked AS (
    SELECT id, edition_id, metric, other,
           ROW_NUMBER() OVER (PARTITION BY edition_id ORDER BY metric, created_at, id) AS position,
           COUNT(*) OVER (PARTITION BY edition_id) AS teams
    FROM team_best WHERE team_position = 1
),
baselines AS (
    SELECT id, edition_id, metric, other,
           ROW_NUMBER() OVER (PARTITION BY edition_id ORDER BY metric, created_at, id) AS position
    FROM scored WHERE is_baseline = %s AND metric IS NOT NULL
),
entries AS (
    SELECT edition_id, COUNT(*) AS n FROM scored WHERE is_baseline = %s GROUP BY edition_id
)
SELECT ed.year, ed.slug, ed.closed, COALESCE(w.teams, 0) AS teams, COALESCE(en.n, 0) AS entries,
       {entry_columns}
FROM editions ed
LEFT JOIN ranked w ON w.edition_id = ed.id AND w.position = 1
LEFT JOIN ranked r ON r.edition_id = ed.id AND r.position = 2
LEFT JOIN baselines b ON b.edition_id = ed.id AND b.position = 1
LEFT JOIN entries en ON en.edition_id = ed.id
{entry_joins}
ORDER BY ed.year, ed.slug
"""
# Each entry (winner w, runner-up r, best baseline b) brings its submission and team columns.
_ENTRY_COLUMNS = (
    "{a}.metric AS {a}_metric, {a}.other AS {a}_other, {a}s.method_name AS {a}_method, "
    "{a}s.method_year AS {a}_year, {a}s.arch AS {a}_arch, {a}s.created_at AS {a}_created, "
    "{a}t.name AS {a}_team"
)
_ENTRY_JOINS = (
    "LEFT JOIN {submission} {a}s ON {a}s.id = {a}.id "
    "LEFT JOIN {team} {a}t ON {a}t.id = {a}s.team_id"
)
ENTRIES = {"w": "winner", "r": "runner_up", "b": "best_baseline"}


@dataclass(frozen=True)
class History:
    challenge: Challenge
    metric: str
    other_metric: str
    editions: list[dict[str, Any]]


def challenge_history(*, slug: str, now: dt.datetime | None = None) -> History:
    """One row per edition, oldest first: who won, who came second, the best baseline; 404
    when there is no such challenge."""
    challenge = get_object_or_404(Challenge, slug=slug)
    metric = Metric(challenge.primary_metric)
    quote = connection.ops.quote_name
    tables = {
        "submission": quote(Submission._meta.db_table),
        "team": quote(Team._meta.db_table),
    }
    sql = _SQL.format(
        edition=quote(Edition._meta.db_table),
        score=quote(Score._meta.db_table),
        metric=metric.value,
        other=_OTHER[metric].value,
        entry_columns=", ".join(_ENTRY_COLUMNS.format(a=a) for a in ENTRIES),
        entry_joins="\n".join(_ENTRY_JOINS.format(a=a, **tables) for a in ENTRIES),
        **tables,
    )
    when = connection.ops.adapt_datetimefield_value(now or timezone.now())
    params = [when, challenge.pk, Submission.Status.SCORED, False, True, False]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return History(
        challenge=challenge,
        metric=metric.value,
        other_metric=_OTHER[metric].value,
        editions=[_edition(row, metric=metric.value) for row in rows],
    )


def _edition(row: dict[str, Any], *, metric: str) -> dict[str, Any]:
    other = _OTHER[Metric(metric)].value
    result = {
        "year": row["year"],
        "edition": row["slug"],
        "phase": "private" if row["closed"] else "public",
        "teams": row["teams"],
        "entries": row["entries"],
    }
    for alias, name in ENTRIES.items():
        if row[f"{alias}_metric"] is None:
            result[name] = None
            continue
        result[name] = {
            "team": row[f"{alias}_team"],
            "method_name": row[f"{alias}_method"],
            "method_year": row[f"{alias}_year"],
            "arch": row[f"{alias}_arch"],
            f"{metric}_error": row[f"{alias}_metric"],
            f"{other}_error": row[f"{alias}_other"],
            "submitted_at": row[f"{alias}_created"],
        }
    return result
