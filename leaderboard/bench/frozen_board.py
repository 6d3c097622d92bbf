"""The cost of a frozen public board: the same edition ranked live and as at a freeze.

A frozen board ranks the scores as they stood at the freeze (``selectors.ranking``): the score
table filtered by time, plus the superseded scores of entries a host re-ran since. This seeds
an edition (``leaderboard_page.seed_edition``), gives each score the time it was recorded (30 s
after its submission), supersedes the scores of some entries as re-runs would (their old score
kept, the current one recorded now), then times the board's selector live and frozen.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from leaderboard import selectors
from leaderboard.models import SCORE_SHARED_COLUMNS, Edition, Score, SupersededScore

from .leaderboard_page import challenge_remove
from .stats import latency_summary


def scores_recorded_after_submission(*, edition: Edition) -> None:
    """Each seeded score recorded 30 s after its submission (bulk inserts stamp them all now)."""
    table = connection.ops.quote_name(Score._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET created_at = submitted_at + interval '30 seconds' "
            "WHERE edition_id = %s",
            [edition.pk],
        )


def supersede(*, edition: Edition, count: int, seed: int) -> int:
    """Re-run ``count`` random entries as the service would record them: the old score kept
    (``SupersededScore``), the current one with new errors recorded now."""
    rng = np.random.default_rng(seed)
    ids = list(Score.objects.filter(edition=edition).values_list("submission_id", flat=True))
    chosen = rng.choice(len(ids), size=min(count, len(ids)), replace=False)
    now = timezone.now()
    scores = list(Score.objects.filter(submission_id__in=[ids[i] for i in chosen]))
    with transaction.atomic():
        SupersededScore.objects.bulk_create(
            [
                SupersededScore(
                    **{column: getattr(s, column) for column in SCORE_SHARED_COLUMNS},
                    record={},
                    dataset_fingerprint="before",
                    scored_at=s.created_at,
                    superseded_at=now,
                )
                for s in scores
            ],
            batch_size=5000,
        )
        for s in scores:
            s.public_top1_error = min(1.0, s.public_top1_error + 0.01)
            s.created_at = now
        Score.objects.bulk_update(scores, ["public_top1_error", "created_at"], batch_size=5000)
    return len(scores)


def time_board(*, edition: Edition, requests: int, now: dt.datetime) -> tuple[dict, int]:
    """The first page of the board as ``edition_leaderboard`` returns it, ``requests`` times."""
    for _ in range(3):
        selectors.edition_leaderboard(edition=edition, page=1, now=now)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        board = selectors.edition_leaderboard(edition=edition, page=1, now=now)
        times.append(time.perf_counter() - started)
    return latency_summary(times), board.total


def bench_remove(*, slug: str) -> None:
    """The seeded challenge, its superseded scores first (raw DELETEs do not cascade)."""
    table = connection.ops.quote_name(SupersededScore._meta.db_table)
    edition = connection.ops.quote_name(Edition._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE edition_id IN "
            f"(SELECT e.id FROM {edition} e JOIN leaderboard_challenge c "
            "ON c.id = e.challenge_id WHERE c.slug = %s)",
            [slug],
        )
    challenge_remove(slug=slug)
