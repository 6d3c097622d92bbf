"""An edition's leaderboard: the one ranking (``selectors.ranking``) by the metric its challenge
declares, on the part of the hidden set the edition shows now, a page at a time.

While the edition runs the public part decides; once it closes, the private part over each
team's finals (``ranking.edition_phase``). One query whose cost grows with teams, not
submissions. The board shows the ranked metric first and the registry's other metrics beside it
(a track's, such as the robust error, only where the challenge runs that track).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from leaderboard.metrics import PRIVATE, PUBLIC, RankedMetric, metric_get, metrics_shown
from leaderboard.models import Edition, Submission

from .ranking import Ranking, edition_phase, ranked_page, ranked_rows

__all__ = [
    "PAGE_SIZE",
    "PRIVATE",
    "PUBLIC",
    "Leaderboard",
    "edition_leaderboard",
    "leaderboard_rows",
]

PAGE_SIZE = 100  # rows per page of the leaderboard page: rendering 700 rows costs more than SQL


@dataclass(frozen=True)
class Leaderboard:
    edition: Edition
    phase: str  # "public" while the edition runs, "private" once it has closed
    metric: str  # the key of the challenge's ranking metric ("top5", "top1", "balanced")
    rows: list[Submission]  # the whole board, or one page of it
    total: int = 0  # rows on the whole board
    page: int = 1
    pages: int = 1
    metrics: tuple[RankedMetric, ...] = field(default=())  # the columns: the ranked one first
    frozen_at: dt.datetime | None = None  # the host's freeze this board shows the standings at

    @property
    def ranked(self) -> RankedMetric:
        return metric_get(self.metric)

    @property
    def metric_label(self) -> str:
        return self.ranked.label


def leaderboard_rows(
    *, edition: Edition, phase: str, metric: str, limit: int | None = None, offset: int = 0
) -> list[Submission]:
    """Best entry per team plus every baseline, best first, in one query (or a slice of it).

    Each row is a Submission with extra attributes: ``position`` (rank among teams, or among
    baselines for a baseline row), ``metric_value`` (the ranked metric), each registered
    metric's value in this phase as ``<key>_value`` (``top1_value``, ``robust_value``...),
    ``scored_images``, ``team_entries``, ``team_name`` and ``total_rows`` (the whole board's
    length).
    """
    ranking = Ranking.of(edition=edition, phase=phase, metric=metric)
    return ranked_rows(ranking=ranking, limit=limit, offset=offset)


def edition_leaderboard(
    *,
    edition: Edition,
    now: dt.datetime | None = None,
    phase: str | None = None,
    page: int | None = None,
) -> Leaderboard:
    """The board as it should be shown now: public scores while open, private once closed.

    ``phase`` asks for one part regardless of time (the public board after the close).
    ``page`` (from 1) returns PAGE_SIZE rows of the board; None returns all of it. A page past
    the end comes back empty, with ``total`` 0 (the count comes with the rows).
    """
    phase = phase or edition_phase(edition=edition, now=now)
    challenge = edition.challenge
    metric = metric_get(challenge.primary_metric)
    ranking = Ranking.of(edition=edition, phase=phase, metric=metric, now=now)
    found = ranked_page(ranking=ranking, page=page, page_size=PAGE_SIZE)
    return Leaderboard(
        edition=edition,
        phase=phase,
        metric=metric.key,
        rows=found.rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        metrics=tuple(metrics_shown(challenge=challenge, first=metric)),
        frozen_at=ranking.frozen.get(edition.pk),
    )
