"""The robustness leaderboard of an edition, ranked in SQL by the mean corruption error.

The same rules as the edition's leaderboard (``selectors.leaderboard``), with the robust error
(mean top-1 error over the corruption transforms, the flip excluded) as the ranking column:
per team its best entry by that error, found by a probe of the score table's partial index on
(team, robust error, time, id); every baseline is its own row; hidden and disqualified entries
are left out; a tie goes to the earlier submission. While an edition runs the public part
decides; once it closes the private part does, over each team's finals that were scored for
robustness (a team with none, e.g. finals chosen before the track was on, is represented by its
best public robust entry). One query, whatever the number of submissions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from leaderboard.models import RANKED_MODERATION, Edition, Score, Submission, Team

PUBLIC, PRIVATE = "public", "private"
PAGE_SIZE = 100
_ALL_ROWS = 2**62
# Fixed identifiers from the code, never from input.
_RANKED = ", ".join(f"'{value}'" for value in RANKED_MODERATION)

_SQL = """
WITH team_best AS {materialized} (
    SELECT (
               SELECT b.submission_id FROM {score} b
               JOIN {submission} v ON v.id = b.submission_id
               WHERE b.team_id = t.id AND b.public_robust_error IS NOT NULL AND v.status = %s
                 AND v.moderation IN ({ranked})
               ORDER BY b.public_robust_error, b.submitted_at, b.submission_id
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
    WHERE sc.edition_id = %s AND sc.is_baseline = %s AND sc.{robust} IS NOT NULL
      AND v.status = %s AND v.moderation IN ({ranked})
),
board AS (
    SELECT s.*,
           sc.{robust} AS robust_value, sc.{top1} AS clean_top1, sc.{top5} AS clean_top5,
           sc.{n_images} AS scored_images, t.name AS team_name,
           ROW_NUMBER() OVER (
               PARTITION BY e.is_baseline ORDER BY sc.{robust}, sc.submitted_at, sc.submission_id
           ) AS position,
           ROW_NUMBER() OVER (ORDER BY sc.{robust}, sc.submitted_at, sc.submission_id) AS row_index,
           COUNT(*) OVER () AS total_rows
    FROM entries e
    JOIN {score} sc ON sc.submission_id = e.submission_id
    JOIN {submission} s ON s.id = e.submission_id
    LEFT JOIN {team} t ON t.id = s.team_id
    WHERE sc.{robust} IS NOT NULL
)
SELECT * FROM board WHERE row_index > %s AND row_index <= %s ORDER BY row_index
"""

_BEST_FINAL = """,
           (
               SELECT f.submission_id FROM {score} f
               JOIN {submission} v ON v.id = f.submission_id
               WHERE f.team_id = t.id AND f.private_robust_error IS NOT NULL AND v.status = %s
                 AND v.is_final AND v.moderation IN ({ranked})
               ORDER BY f.private_robust_error, f.submitted_at, f.submission_id
               LIMIT 1
           ) AS best_final"""


@dataclass(frozen=True)
class RobustnessBoard:
    edition: Edition
    phase: str  # "public" while the edition runs, "private" once it has closed
    rows: list[Submission]  # with robust_value, clean_top1, clean_top5, position, team_name...
    total: int = 0
    page: int = 1
    pages: int = 1


def robustness_rows(
    *, edition: Edition, phase: str, limit: int | None = None, offset: int = 0
) -> list[Submission]:
    """Best robust entry per team plus every robust-scored baseline, best first, one query.

    Each row is a Submission with ``position`` (among teams, or among baselines), ``robust_value``
    (the phase's mean corruption error), ``clean_top1``, ``clean_top5``, ``scored_images``,
    ``team_name``, ``total_rows`` and ``relative_increase`` (robust over clean top-1, minus 1).
    """
    if phase not in (PUBLIC, PRIVATE):
        raise ValueError(f"phase must be {PUBLIC!r} or {PRIVATE!r}")
    quote = connection.ops.quote_name
    names = {
        "submission": quote(Submission._meta.db_table),
        "score": quote(Score._meta.db_table),
        "team": quote(Team._meta.db_table),
        "robust": f"{phase}_robust_error",
        "top1": f"{phase}_top1_error",
        "top5": f"{phase}_top5_error",
        "n_images": f"{phase}_n_images",
        "ranked": _RANKED,
    }
    scored = Submission.Status.SCORED
    if phase == PRIVATE:
        best_final, pick = _BEST_FINAL.format(**names), "COALESCE(best_final, best_public)"
        finals_params = [scored]
    else:
        best_final, pick, finals_params = "", "best_public", []
    materialized = "MATERIALIZED" if connection.vendor == "postgresql" else ""
    sql = _SQL.format(best_final=best_final, pick=pick, materialized=materialized, **names)
    offset = max(0, offset)
    end = _ALL_ROWS if limit is None else offset + max(0, limit)
    params = [scored, *finals_params, edition.pk, False, edition.pk, True, scored, offset, end]
    rows = list(Submission.objects.raw(sql, params))
    for row in rows:
        clean = row.clean_top1
        row.relative_increase = (row.robust_value - clean) / clean if clean else None
    return rows


def robustness_board(
    *,
    edition: Edition,
    now: dt.datetime | None = None,
    phase: str | None = None,
    page: int | None = None,
) -> RobustnessBoard:
    """The board as it should be shown now (public while open, private once closed)."""
    if phase is None:
        phase = PRIVATE if edition.is_closed(now=now or timezone.now()) else PUBLIC
    page = None if page is None else max(1, page)
    rows = robustness_rows(
        edition=edition,
        phase=phase,
        limit=None if page is None else PAGE_SIZE,
        offset=0 if page is None else (page - 1) * PAGE_SIZE,
    )
    total = rows[0].total_rows if rows else 0
    return RobustnessBoard(
        edition=edition,
        phase=phase,
        rows=rows,
        total=total,
        page=page or 1,
        pages=1 if page is None else max(1, math.ceil(total / PAGE_SIZE)),
    )
