"""A submission's scores over time (a host's re-runs), and a team's scores after a freeze.

The current score is ``Score``; each one a re-run replaced is a ``SupersededScore``, with the
dataset fingerprint it was computed on. Values are shown on the part the edition shows now
(``ranking.edition_phase``), as every other page of the site does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from leaderboard.metrics import METRICS, PUBLIC, metric_get
from leaderboard.models import RANKED_MODERATION, Edition, Score, Submission, Team

from .ranking import edition_phase


@dataclass(frozen=True)
class ScoreEntry:
    scored_at: dt.datetime
    superseded_at: dt.datetime | None  # None for the current score
    fingerprint: str
    values: dict[str, float | None]  # metric key -> value on the part shown
    after_freeze: bool  # recorded after the public board's freeze (not on the public board)

    @property
    def current(self) -> bool:
        return self.superseded_at is None


def submission_score_history(
    *, submission: Submission, now: dt.datetime | None = None
) -> list[ScoreEntry]:
    """Every score of ``submission``, newest (the current one) first."""
    now = now or timezone.now()
    edition = submission.edition
    phase = edition_phase(edition=edition, now=now)
    frozen = edition.board_frozen_as_of(now=now)
    entries = []
    current = Score.objects.filter(submission=submission).first()
    if current is not None:
        entries.append(
            _entry(current, scored_at=current.created_at, superseded_at=None, phase=phase)
        )
    for old in submission.superseded_scores.order_by("-scored_at", "-pk"):
        entries.append(
            _entry(old, scored_at=old.scored_at, superseded_at=old.superseded_at, phase=phase)
        )
    if frozen is not None:
        entries = [
            ScoreEntry(**{**e.__dict__, "after_freeze": e.scored_at > frozen}) for e in entries
        ]
    return entries


def _entry(
    row: object, *, scored_at: dt.datetime, superseded_at: dt.datetime | None, phase: str
) -> ScoreEntry:
    record = getattr(row, "record", None) or {}
    return ScoreEntry(
        scored_at=scored_at,
        superseded_at=superseded_at,
        fingerprint=str(
            getattr(row, "dataset_fingerprint", "") or record.get("dataset_fingerprint") or ""
        ),
        values={m.key: getattr(row, m.column(phase)) for m in METRICS},
        after_freeze=False,
    )


@dataclass(frozen=True)
class AfterFreeze:
    frozen_at: dt.datetime
    rows: list[Submission]  # the team's entries scored since, each with ``metric_value``


def team_scores_after_freeze(
    *, edition: Edition, team: Team | None, now: dt.datetime | None = None
) -> AfterFreeze | None:
    """While the public board is frozen: the team's own entries scored since the freeze, with
    the ranked metric on the public part (the team sees them; the public board does not)."""
    frozen = edition.board_frozen_as_of(now=now or timezone.now())
    if frozen is None:
        return None
    column = metric_get(edition.challenge.primary_metric).column(PUBLIC)
    rows = []
    if team is not None:
        rows = list(
            Submission.objects.filter(
                team=team,
                status=Submission.Status.SCORED,
                moderation__in=RANKED_MODERATION,
                score__created_at__gt=frozen,
            )
            .select_related("score")
            .order_by("-score__created_at")
        )
        for row in rows:
            row.metric_value = getattr(row.score, column)
    return AfterFreeze(frozen_at=frozen, rows=rows)
