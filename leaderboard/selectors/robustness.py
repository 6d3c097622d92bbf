"""The robustness leaderboard of an edition: the one ranking (``selectors.ranking``) by the robust
error (the registry's ``robust``: mean top-1 error over the corruption transforms, the flip
excluded), with the leaderboard's rules. Per team its best entry by that error; every baseline
is its own row; hidden and disqualified entries are left out; a tie goes to the earlier
submission. While an edition runs the public part decides; once it closes the private part
does, over each team's finals that were scored for robustness (a team with none, e.g. finals
chosen before the track was on, is represented by its best public robust entry). Entries not
scored for robustness are not on it. One query, whatever the number of submissions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from leaderboard.metrics import PRIVATE, PUBLIC, ROBUST, RankedMetric, metrics_shown
from leaderboard.models import Edition, Submission

from .ranking import Ranking, edition_phase, ranked_page, ranked_rows

__all__ = [
    "PAGE_SIZE",
    "PRIVATE",
    "PUBLIC",
    "RobustnessBoard",
    "robustness_board",
    "robustness_rows",
]

PAGE_SIZE = 100


@dataclass(frozen=True)
class RobustnessBoard:
    edition: Edition
    phase: str  # "public" while the edition runs, "private" once it has closed
    rows: list[Submission]  # with robust_value, clean_top1, clean_top5, position, team_name...
    total: int = 0
    page: int = 1
    pages: int = 1
    metrics: tuple[RankedMetric, ...] = field(default=())  # the robust error, then the clean ones


def robustness_rows(
    *, edition: Edition, phase: str, limit: int | None = None, offset: int = 0
) -> list[Submission]:
    """Best robust entry per team plus every robust-scored baseline, best first, one query.

    Each row is a Submission with ``position`` (among teams, or among baselines), ``robust_value``
    (the phase's mean corruption error), every other metric's clean value (``top1_value``,
    ``clean_top1``, ``clean_top5``...), ``scored_images``, ``team_name``, ``total_rows`` and
    ``relative_increase`` (robust over clean top-1, minus 1).
    """
    ranking = Ranking.of(edition=edition, phase=phase, metric=ROBUST)
    return _with_increase(ranked_rows(ranking=ranking, limit=limit, offset=offset))


def robustness_board(
    *,
    edition: Edition,
    now: dt.datetime | None = None,
    phase: str | None = None,
    page: int | None = None,
) -> RobustnessBoard:
    """The board as it should be shown now (public while open, private once closed)."""
    phase = phase or edition_phase(edition=edition, now=now)
    ranking = Ranking.of(edition=edition, phase=phase, metric=ROBUST, now=now)
    found = ranked_page(ranking=ranking, page=page, page_size=PAGE_SIZE)
    return RobustnessBoard(
        edition=edition,
        phase=phase,
        rows=_with_increase(found.rows),
        total=found.total,
        page=found.page,
        pages=found.pages,
        metrics=tuple(metrics_shown(challenge=edition.challenge, first=ROBUST)),
    )


def _with_increase(rows: list[Submission]) -> list[Submission]:
    for row in rows:
        row.clean_top1, row.clean_top5 = row.top1_value, row.top5_value
        clean = row.clean_top1
        row.relative_increase = (row.robust_value - clean) / clean if clean else None
    return rows
