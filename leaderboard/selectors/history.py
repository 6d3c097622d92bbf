"""A challenge's year-by-year history: each edition's winner and runner-up, its numbers, the best
baseline of each year, and the reported results; plus every scored entry for the chart.

Ranked in SQL with window functions, with the edition leaderboard's rules: per team one entry
(while an edition runs, its best public one; once closed, its best final on the private part,
where a team that chose no finals is represented by its best public entry); hidden and
disqualified entries are left out; a tie goes to the earlier submission. Each edition is read
in its own phase (public while it runs, private once closed). Baselines are placed at the year
of their paper (``method_year``). Three queries, whatever the number of submissions. Each entry
also carries its robust error (the robustness track's mean corruption error, in its phase) where
it was scored, for the chart's robust-error view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from leaderboard.models import (
    RANKED_MODERATION,
    Challenge,
    Edition,
    Metric,
    ReferenceResult,
    Score,
    Submission,
    Team,
)

# Moderation states are fixed identifiers from the code, never from input.
assert all(value.isalpha() or value == "" for value in RANKED_MODERATION)
_RANKED = ", ".join(f"'{value}'" for value in RANKED_MODERATION)

# One row per scored, ranked submission of the challenge, with the errors of its edition's phase.
_SCORED = """
eds AS (
    SELECT e.id, e.year, e.opens_at, e.closes_at,
           CASE WHEN e.closes_at <= %s THEN 1 ELSE 0 END AS private_phase
    FROM {edition} e WHERE e.challenge_id = %s
),
scored AS (
    SELECT s.id AS submission_id, s.edition_id, s.team_id, s.is_baseline, s.is_final,
           s.created_at, s.method_name, s.method_year, eds.year, eds.opens_at, eds.closes_at,
           eds.private_phase,
           CASE WHEN eds.private_phase = 1 THEN sc.private_top5_error
                ELSE sc.public_top5_error END AS top5,
           CASE WHEN eds.private_phase = 1 THEN sc.private_top1_error
                ELSE sc.public_top1_error END AS top1,
           CASE WHEN eds.private_phase = 1 THEN sc.private_robust_error
                ELSE sc.public_robust_error END AS robust,
           sc.public_{metric}_error AS public_metric
    FROM {submission} s
    JOIN eds ON eds.id = s.edition_id
    JOIN {score} sc ON sc.submission_id = s.id
    WHERE s.status = 'scored' AND s.moderation IN ({ranked})
)
"""

_PLACES = (
    "WITH"
    + _SCORED
    + """,
in_team AS (
    SELECT scored.*,
           ROW_NUMBER() OVER (
               PARTITION BY team_id
               ORDER BY CASE WHEN public_metric IS NULL THEN 1 ELSE 0 END, public_metric,
                        created_at, submission_id
           ) AS public_position,
           MAX(CASE WHEN is_final THEN 1 ELSE 0 END) OVER (PARTITION BY team_id) AS has_finals
    FROM scored WHERE NOT is_baseline
),
candidates AS (
    SELECT * FROM in_team
    WHERE {metric} IS NOT NULL AND (
        private_phase = 0 AND public_position = 1
        OR private_phase = 1 AND has_finals = 1 AND is_final
        OR private_phase = 1 AND has_finals = 0 AND public_position = 1
    )
),
team_rows AS (
    SELECT candidates.*,
           ROW_NUMBER() OVER (
               PARTITION BY team_id ORDER BY {metric}, created_at, submission_id
           ) AS team_position
    FROM candidates
),
placed AS (
    SELECT team_rows.*,
           ROW_NUMBER() OVER (
               PARTITION BY edition_id ORDER BY {metric}, created_at, submission_id
           ) AS place,
           MIN(top5) OVER (PARTITION BY edition_id) AS best_top5,
           MIN(top1) OVER (PARTITION BY edition_id) AS best_top1,
           MIN(robust) OVER (PARTITION BY edition_id) AS best_robust
    FROM team_rows WHERE team_position = 1
),
baselines AS (
    SELECT scored.*,
           ROW_NUMBER() OVER (
               PARTITION BY method_year ORDER BY {metric}, created_at, submission_id
           ) AS place,
           NULL AS best_top5, NULL AS best_top1, NULL AS best_robust
    FROM scored WHERE is_baseline AND method_year IS NOT NULL AND {metric} IS NOT NULL
)
SELECT p.edition_id, p.year, p.place, p.submission_id, p.method_name, p.top5, p.top1,
       p.best_top5, p.best_top1, t.name AS team_name, 0 AS is_baseline, NULL AS method_year,
       p.robust, p.best_robust
FROM placed p LEFT JOIN {team} t ON t.id = p.team_id
WHERE p.place <= 2
UNION ALL
SELECT b.edition_id, b.year, b.place, b.submission_id, b.method_name, b.top5, b.top1,
       NULL, NULL, NULL, 1, b.method_year, b.robust, NULL
FROM baselines b
ORDER BY 11, 12, 2, 3
"""
)

_POINTS = (
    "WITH"
    + _SCORED
    + """
SELECT sd.submission_id, sd.edition_id, sd.year, sd.opens_at, sd.closes_at, sd.created_at,
       sd.method_name, sd.top5, sd.top1, sd.robust, t.name AS team_name
FROM scored sd LEFT JOIN {team} t ON t.id = sd.team_id
WHERE NOT sd.is_baseline
ORDER BY sd.created_at, sd.submission_id
"""
)


@dataclass(frozen=True)
class Entry:
    """A ranked entry as the history shows it: who, what, and its errors in its phase."""

    submission_id: str
    team: str | None
    method: str
    top5: float | None
    top1: float | None
    year: int  # the edition's year (a baseline: the year of its paper)
    robust: float | None = None  # mean corruption error (robustness track), when scored


@dataclass
class YearRow:
    """One year: our edition(s) of it, the best baseline of its papers, what was reported."""

    year: int
    editions: list[EditionSummary] = field(default_factory=list)
    baseline: Entry | None = None  # the best baseline whose paper is from this year
    baselines: list[Entry] = field(default_factory=list)
    reported: list[ReferenceResult] = field(default_factory=list)


@dataclass
class EditionSummary:
    edition: Edition
    final: bool  # closed: ranked on the private part over the finals
    n_teams: int
    n_submissions: int
    winner: Entry | None = None
    runner_up: Entry | None = None
    best_top5: float | None = None
    best_top1: float | None = None
    best_robust: float | None = None  # lowest robust error among the ranked entries


@dataclass(frozen=True)
class History:
    challenge: Challenge
    metric: str
    years: list[YearRow]

    @property
    def metric_label(self) -> str:
        return Metric(self.metric).label


@dataclass(frozen=True)
class HistoryPoint:
    """One scored participant submission, for the chart's cloud of points."""

    submission_id: str
    edition_id: int
    year: int
    fraction: float  # how far into its edition it was submitted, 0..1
    created_at: dt.datetime
    team: str | None
    method: str
    top5: float | None
    top1: float | None
    robust: float | None = None


def challenge_history(*, challenge: Challenge, now: dt.datetime | None = None) -> History:
    """Every year with an edition, a baseline paper or a reported result, oldest first."""
    now = now or timezone.now()
    metric = Metric(challenge.primary_metric)
    editions = list(
        Edition.objects.filter(challenge=challenge)
        .annotate(
            n_teams=Count(
                "submissions__team", distinct=True, filter=Q(submissions__is_baseline=False)
            ),
            n_submissions=Count("submissions", filter=Q(submissions__is_baseline=False)),
        )
        .order_by("year", "opens_at", "pk")
    )
    for e in editions:
        e.challenge = challenge  # the page links each edition: no query per edition
    summaries = {
        e.pk: EditionSummary(
            edition=e, final=e.is_closed(now=now), n_teams=e.n_teams, n_submissions=e.n_submissions
        )
        for e in editions
    }
    years: dict[int, YearRow] = {}
    for summary in summaries.values():
        _year(years, summary.edition.year).editions.append(summary)
    for row in _run(_PLACES, metric=metric, now=now, challenge=challenge):
        entry = Entry(
            submission_id=str(row["submission_id"]),
            team=row["team_name"],
            method=row["method_name"],
            top5=row["top5"],
            top1=row["top1"],
            year=row["method_year"] if row["is_baseline"] else row["year"],
            robust=row["robust"],
        )
        if row["is_baseline"]:
            year_row = _year(years, row["method_year"])
            year_row.baselines.append(entry)
            if row["place"] == 1:
                year_row.baseline = entry
            continue
        summary = summaries[row["edition_id"]]
        summary.best_top5, summary.best_top1 = row["best_top5"], row["best_top1"]
        summary.best_robust = row["best_robust"]
        if row["place"] == 1:
            summary.winner = entry
        else:
            summary.runner_up = entry
    for reported in ReferenceResult.objects.filter(challenge=challenge).order_by(
        "year", "top5_error", "top1_error", "team"
    ):
        _year(years, reported.year).reported.append(reported)
    return History(challenge=challenge, metric=metric, years=[years[y] for y in sorted(years)])


def challenge_history_points(
    *, challenge: Challenge, now: dt.datetime | None = None
) -> list[HistoryPoint]:
    """Every scored, ranked participant submission of the challenge, in one query."""
    now = now or timezone.now()
    points = []
    metric = Metric(challenge.primary_metric)
    for row in _run(_POINTS, metric=metric, now=now, challenge=challenge):
        span = (row["closes_at"] - row["opens_at"]).total_seconds()
        elapsed = (row["created_at"] - row["opens_at"]).total_seconds()
        points.append(
            HistoryPoint(
                submission_id=str(row["submission_id"]),
                edition_id=row["edition_id"],
                year=row["year"],
                fraction=min(1.0, max(0.0, elapsed / span)) if span > 0 else 0.0,
                created_at=row["created_at"],
                team=row["team_name"],
                method=row["method_name"],
                top5=row["top5"],
                top1=row["top1"],
                robust=row["robust"],
            )
        )
    return points


def _year(years: dict[int, YearRow], year: int) -> YearRow:
    if year not in years:
        years[year] = YearRow(year=year)
    return years[year]


def _run(template: str, *, metric: str, now: dt.datetime, challenge: Challenge) -> list[dict]:
    quote = connection.ops.quote_name
    params = [connection.ops.adapt_datetimefield_value(now), challenge.pk]
    sql = template.format(
        edition=quote(Edition._meta.db_table),
        submission=quote(Submission._meta.db_table),
        score=quote(Score._meta.db_table),
        team=quote(Team._meta.db_table),
        metric=Metric(metric).value,
        ranked=_RANKED,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return [_aware(row) for row in rows]


def _aware(row: dict) -> dict:
    """Raw cursors return naive datetimes on SQLite: make them aware (UTC) like the ORM does."""
    for key in ("created_at", "opens_at", "closes_at"):
        value = row.get(key)
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if isinstance(value, dt.datetime) and timezone.is_naive(value):
            value = value.replace(tzinfo=dt.UTC)
        if key in row:
            row[key] = value
    return row
