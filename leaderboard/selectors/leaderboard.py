"""The leaderboard, ranked in SQL in one query whose cost grows with teams, not submissions.

Per team the best entry is kept: a correlated subquery walks the team's entries in the score
table's index on (team, metric, time, id) and stops at the first one still in state SCORED, so
100,000 submissions cost about what a few hundred do. A team's entry count is read from the
same index alone (a score row exists only for a scored submission). Baselines are not a team,
so each baseline submission is its own row. Rows are ordered by the challenge's primary metric,
then by submission time: a tie goes to the earlier submission. While an edition runs the public
part of the test set decides; once it closes, the private part does.

Once closed, a team is ranked by its finals: the best, on the private part, of the entries it
chose (``Submission.is_final``), or, if it chose none, its best public entry. Entries a host hid
or disqualified are left out of the ranking; flagged ones stay. ``selectors.history`` applies
the same rules to every edition of a challenge at once.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from leaderboard.models import RANKED_MODERATION, Edition, Metric, Score, Submission, Team

PUBLIC, PRIVATE = "public", "private"
PAGE_SIZE = 100  # rows per page of the leaderboard page: rendering 700 rows costs more than SQL
# The only strings ever put into the SQL text: chosen from these fixed names, never from input.
_METRIC_COLUMNS = {
    (phase, metric): f"{phase}_{metric}_error" for phase in (PUBLIC, PRIVATE) for metric in Metric
}
_OTHER = {Metric.TOP5: Metric.TOP1, Metric.TOP1: Metric.TOP5}

# Correlated subqueries rather than LATERAL joins, so that SQLite (the embedded default) runs
# the same text; PostgreSQL executes each as a probe of the partial index per team. (Keep the
# planner's cost estimate low: past jit_above_cost PostgreSQL spends ~40 ms compiling it.)
_SQL = """
WITH team_best AS {materialized} (
    SELECT (
               SELECT b.submission_id FROM {score} b
               JOIN {submission} v ON v.id = b.submission_id
               WHERE b.team_id = t.id AND b.{public_metric} IS NOT NULL AND v.status = %s
                 AND v.moderation IN ({ranked})
               ORDER BY b.{public_metric}, b.submitted_at, b.submission_id
               LIMIT 1
           ) AS best_public{best_final}
    FROM {team} t
    WHERE t.edition_id = %s
),
entries AS (
    SELECT {pick} AS submission_id, %s AS is_baseline
    FROM team_best WHERE {pick} IS NOT NULL
    UNION ALL
    SELECT sc.submission_id, sc.is_baseline
    FROM {score} sc
    JOIN {submission} v ON v.id = sc.submission_id
    WHERE sc.edition_id = %s AND sc.is_baseline = %s AND sc.{metric} IS NOT NULL
      AND v.status = %s AND v.moderation IN ({ranked})
)
SELECT s.*,
       sc.{metric} AS metric_value, sc.{other} AS other_value, sc.{n_images} AS scored_images,
       sc.{robust} AS robust_value, t.name AS team_name,
       ROW_NUMBER() OVER (
           PARTITION BY e.is_baseline ORDER BY sc.{metric}, sc.submitted_at, sc.submission_id
       ) AS position,
       ROW_NUMBER() OVER (ORDER BY sc.{metric}, sc.submitted_at, sc.submission_id) AS row_index,
       COUNT(*) OVER () AS total_rows
FROM entries e
JOIN {score} sc ON sc.submission_id = e.submission_id
JOIN {submission} s ON s.id = e.submission_id
LEFT JOIN {team} t ON t.id = s.team_id
WHERE sc.{metric} IS NOT NULL
ORDER BY sc.{metric}, sc.submitted_at, sc.submission_id
"""

# The rows asked for (all, or a page), with each team's entry count: positions and the total
# are computed over the whole board first, the counts (an index-only scan each) for these rows.
_ROWS = """
SELECT board.*,
       CASE WHEN board.is_baseline = %s THEN 1 ELSE (
           SELECT COUNT(*) FROM {score} c
           WHERE c.team_id = board.team_id AND c.{metric} IS NOT NULL
       ) END AS team_entries
FROM ({board}) board
WHERE board.row_index > %s AND board.row_index <= %s
ORDER BY board.row_index
"""
_ALL_ROWS = 2**62

# Private phase: the team's best final on the private part (none chosen: NULL, and its best
# public entry stands in). A team has at most ``final_submissions`` finals: a short scan.
_BEST_FINAL = """,
           (
               SELECT f.submission_id FROM {score} f
               JOIN {submission} v ON v.id = f.submission_id
               WHERE f.team_id = t.id AND f.{metric} IS NOT NULL AND v.status = %s
                 AND v.is_final AND v.moderation IN ({ranked})
               ORDER BY f.{metric}, f.submitted_at, f.submission_id
               LIMIT 1
           ) AS best_final"""
# Moderation states that stay ranked: fixed identifiers from the code, never input.
_RANKED = ", ".join(f"'{value}'" for value in RANKED_MODERATION)


@dataclass(frozen=True)
class Leaderboard:
    edition: Edition
    phase: str  # "public" while the edition runs, "private" once it has closed
    metric: str  # the challenge's primary metric: "top5" or "top1"
    other_metric: str
    rows: list[Submission]  # the whole board, or one page of it
    total: int = 0  # rows on the whole board
    page: int = 1
    pages: int = 1

    @property
    def metric_label(self) -> str:
        return Metric(self.metric).label

    @property
    def other_label(self) -> str:
        return Metric(self.other_metric).label


def leaderboard_rows(
    *, edition: Edition, phase: str, metric: str, limit: int | None = None, offset: int = 0
) -> list[Submission]:
    """Best entry per team plus every baseline, best first, in one query (or a slice of it).

    Each row is a Submission with extra attributes: ``position`` (rank among teams, or among
    baselines for a baseline row), ``metric_value``, ``other_value``, ``scored_images``,
    ``team_entries``, ``team_name``, ``total_rows`` (the length of the whole board) and
    ``robust_value`` (the robustness track's mean corruption error in this phase, or None).
    """
    metric = Metric(metric)
    quote = connection.ops.quote_name
    names = {
        "submission": quote(Submission._meta.db_table),
        "score": quote(Score._meta.db_table),
        "team": quote(Team._meta.db_table),
        "metric": _METRIC_COLUMNS[(phase, metric)],
        "public_metric": _METRIC_COLUMNS[(PUBLIC, metric)],
        "other": _METRIC_COLUMNS[(phase, _OTHER[metric])],
        "n_images": f"{phase}_n_images",
        "robust": f"{phase}_robust_error",
        "ranked": _RANKED,
    }
    scored = Submission.Status.SCORED
    if phase == PRIVATE:
        best_final, pick = _BEST_FINAL.format(**names), "COALESCE(best_final, best_public)"
        finals_params = [scored]
    else:
        best_final, pick, finals_params = "", "best_public", []
    # Computed once per team on PostgreSQL (inlined, the pick would be evaluated twice).
    materialized = "MATERIALIZED" if connection.vendor == "postgresql" else ""
    board = _SQL.format(best_final=best_final, pick=pick, materialized=materialized, **names)
    sql = _ROWS.format(board=board, **names)
    offset = max(0, offset)
    end = _ALL_ROWS if limit is None else offset + max(0, limit)
    params = [True, scored, *finals_params, edition.pk, False, edition.pk, True, scored]
    return list(Submission.objects.raw(sql, [*params, offset, end]))


def edition_leaderboard(
    *,
    edition: Edition,
    now: dt.datetime | None = None,
    phase: str | None = None,
    page: int | None = None,
) -> Leaderboard:
    """The board as it should be shown now: public scores while open, private once closed.

    ``phase`` asks for one part regardless of time (the host's preview of the private board).
    ``page`` (from 1) returns PAGE_SIZE rows of the board; None returns all of it. A page past
    the end comes back empty, with ``total`` 0 (the count comes with the rows).
    """
    if phase is None:
        phase = PRIVATE if edition.is_closed(now=now or timezone.now()) else PUBLIC
    metric = Metric(edition.challenge.primary_metric)
    page = None if page is None else max(1, page)
    rows = leaderboard_rows(
        edition=edition,
        phase=phase,
        metric=metric,
        limit=None if page is None else PAGE_SIZE,
        offset=0 if page is None else (page - 1) * PAGE_SIZE,
    )
    total = rows[0].total_rows if rows else 0
    return Leaderboard(
        edition=edition,
        phase=phase,
        metric=metric,
        other_metric=_OTHER[metric],
        rows=rows,
        total=total,
        page=page or 1,
        pages=1 if page is None else max(1, math.ceil(total / PAGE_SIZE)),
    )
