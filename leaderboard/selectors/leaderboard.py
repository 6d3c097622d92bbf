"""The leaderboard, ranked in SQL with window functions: one query whatever the entry count.

Per team the best entry is kept (``ROW_NUMBER() OVER (PARTITION BY team ...)``); baselines are
not a team, so each baseline submission is its own row. Rows are ordered by the challenge's
primary metric, then by submission time: a tie goes to the earlier submission. While an edition
runs the public part of the test set decides; once it closes, the private part does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from leaderboard.models import Edition, Metric, Score, Submission, Team

PUBLIC, PRIVATE = "public", "private"
# The only strings ever put into the SQL text: chosen from these fixed names, never from input.
_METRIC_COLUMNS = {
    (phase, metric): f"{phase}_{metric}_error" for phase in (PUBLIC, PRIVATE) for metric in Metric
}
_OTHER = {Metric.TOP5: Metric.TOP1, Metric.TOP1: Metric.TOP5}

_SQL = """
WITH scored AS (
    SELECT s.id AS submission_id, s.team_id, s.is_baseline, s.created_at,
           sc.{metric} AS metric, sc.{n_images} AS n_images
    FROM {submission} s
    JOIN {score} sc ON sc.submission_id = s.id
    WHERE s.edition_id = %s AND s.status = %s AND sc.{metric} IS NOT NULL
),
team_best AS (
    SELECT scored.*,
           ROW_NUMBER() OVER (
               PARTITION BY team_id ORDER BY metric, created_at, submission_id
           ) AS team_position,
           COUNT(*) OVER (PARTITION BY team_id) AS entries
    FROM scored
    WHERE is_baseline = %s
),
entries AS (
    SELECT submission_id, metric, n_images, created_at, is_baseline, entries
    FROM team_best WHERE team_position = 1
    UNION ALL
    SELECT submission_id, metric, n_images, created_at, is_baseline, 1
    FROM scored WHERE is_baseline = %s
)
SELECT s.*,
       e.metric AS metric_value, sc.{other} AS other_value, e.n_images AS scored_images,
       e.entries AS team_entries, t.name AS team_name,
       ROW_NUMBER() OVER (
           PARTITION BY e.is_baseline ORDER BY e.metric, e.created_at, e.submission_id
       ) AS position
FROM entries e
JOIN {submission} s ON s.id = e.submission_id
JOIN {score} sc ON sc.submission_id = s.id
LEFT JOIN {team} t ON t.id = s.team_id
ORDER BY e.metric, e.created_at, e.submission_id
"""


@dataclass(frozen=True)
class Leaderboard:
    edition: Edition
    phase: str  # "public" while the edition runs, "private" once it has closed
    metric: str  # the challenge's primary metric: "top5" or "top1"
    other_metric: str
    rows: list[Submission]

    @property
    def metric_label(self) -> str:
        return Metric(self.metric).label

    @property
    def other_label(self) -> str:
        return Metric(self.other_metric).label


def leaderboard_rows(*, edition: Edition, phase: str, metric: str) -> list[Submission]:
    """Best entry per team plus every baseline, best first, in one query.

    Each row is a Submission with extra attributes: ``position`` (rank among teams, or among
    baselines for a baseline row), ``metric_value``, ``other_value``, ``scored_images``,
    ``team_entries`` and ``team_name``.
    """
    metric = Metric(metric)
    quote = connection.ops.quote_name
    sql = _SQL.format(
        submission=quote(Submission._meta.db_table),
        score=quote(Score._meta.db_table),
        team=quote(Team._meta.db_table),
        metric=_METRIC_COLUMNS[(phase, metric)],
        other=_METRIC_COLUMNS[(phase, _OTHER[metric])],
        n_images=f"{phase}_n_images",
    )
    params = [edition.pk, Submission.Status.SCORED, False, True]
    return list(Submission.objects.raw(sql, params))


def edition_leaderboard(*, edition: Edition, now: dt.datetime | None = None) -> Leaderboard:
    """The board as it should be shown now: public scores while open, private once closed."""
    phase = PRIVATE if edition.is_closed(now=now or timezone.now()) else PUBLIC
    metric = Metric(edition.challenge.primary_metric)
    return Leaderboard(
        edition=edition,
        phase=phase,
        metric=metric,
        other_metric=_OTHER[metric],
        rows=leaderboard_rows(edition=edition, phase=phase, metric=metric),
    )
