"""Seed one edition with many scored submissions, then time its leaderboard and charts pages.

Rows are written with ``bulk_create`` straight into the tables (no files, no queue): what is
measured is the page, not the upload path. Everything seeded hangs off one challenge, removed
at the end with plain DELETEs unless asked to keep it.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leaderboard import selectors
from leaderboard.models import Challenge, Edition, Score, Submission, Team
from leaderboard.selectors.team_best import TABLE as TEAM_BEST
from leaderboard.selectors.team_best import team_best_deferred, team_best_ready
from leaderboard.services import activity_rebuild

from .stats import latency_summary

BATCH = 5000
PAGES = ("leaderboard", "charts", "challenge")
DEFAULT_PAGES = ("leaderboard", "charts")  # the challenge page took 6 s a request before 0019


@dataclass(frozen=True)
class PageTiming:
    url: str
    shown: str  # what the page showed: rows of the board, or days and points of the charts
    queries: list[tuple[float, str]]  # (seconds, start of the SQL) of one request's queries
    page: dict[str, float]
    selector: dict[str, float]  # the page's selectors alone, without rendering


def seeded_edition(*, slug: str) -> Edition | None:
    """The edition an earlier run seeded under ``slug`` and kept, if any."""
    return Edition.objects.filter(challenge__slug=slug).select_related("challenge").first()


def seed_edition(*, slug: str, submissions: int, teams: int, baselines: int, seed: int) -> Edition:
    """A challenge ``slug`` with one open edition holding the given number of scored entries."""
    challenge_remove(slug=slug)
    now = timezone.now()
    challenge = Challenge.objects.create(
        slug=slug,
        title=f"Benchmark ({submissions:,} submissions)",
        input_spec={"channels": 1, "height": 28, "width": 28, "mean": [0.5], "std": [0.5]},
        class_names=[str(i) for i in range(10)],
    )
    edition = Edition.objects.create(
        challenge=challenge,
        year=now.year,
        slug=str(now.year),
        opens_at=now - dt.timedelta(days=60),
        closes_at=now + dt.timedelta(days=30),
    )
    team_rows = Team.objects.bulk_create(
        [Team(edition=edition, name=f"team-{i:04d}") for i in range(teams)], batch_size=BATCH
    )
    rng = np.random.default_rng(seed)
    owner = rng.integers(0, len(team_rows), size=submissions)
    is_baseline = np.zeros(submissions, dtype=bool)
    is_baseline[rng.choice(submissions, size=min(baselines, submissions), replace=False)] = True
    age_s = rng.uniform(0, 60 * 86400, size=submissions)
    # Top-1 error between 0.05 and 0.9 per team skill plus noise; top-5 a fraction of it.
    skill = rng.uniform(0.05, 0.6, size=len(team_rows))
    top1 = np.clip(skill[owner] + rng.normal(0, 0.05, size=(submissions, 2)).T, 0, 1).T
    top5 = top1 * rng.uniform(0.2, 0.5, size=(submissions, 2))
    # One transaction: the stored team bests are built once at its end, not per batch.
    with team_best_deferred(edition_ids=[edition.pk]):
        for start in range(0, submissions, BATCH):
            stop = min(start + BATCH, submissions)
            rows = [
                Submission(
                    id=uuid.uuid4(),
                    edition=edition,
                    team=None if is_baseline[i] else team_rows[owner[i]],
                    is_baseline=bool(is_baseline[i]),
                    method_year=2012 if is_baseline[i] else None,
                    file=f"submissions/{edition.pk}/bench",
                    method_name=f"method {i}",
                    format="onnx",
                    status=Submission.Status.SCORED,
                    attempts=1,
                    created_at=now - dt.timedelta(seconds=float(age_s[i])),
                    finished_at=now - dt.timedelta(seconds=float(age_s[i]) - 30),
                )
                for i in range(start, stop)
            ]
            Submission.objects.bulk_create(rows, batch_size=BATCH)
            Score.objects.bulk_create(
                [_score(row, top1[i], top5[i]) for i, row in enumerate(rows, start)],
                batch_size=BATCH,
            )
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that
        # lets counts be answered from an index alone.
        with connection.cursor() as cursor:
            for model in (Team, Submission, Score):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
            if team_best_ready():
                cursor.execute(f"VACUUM ANALYZE {TEAM_BEST}")
    # The rows went in around the services: count the charts' days as the services would have.
    activity_rebuild(edition=edition)
    return edition


def _score(submission: Submission, top1: np.ndarray, top5: np.ndarray) -> Score:
    public1, private1 = (round(float(v), 4) for v in top1)
    public5, private5 = (round(float(v), 4) for v in top5)
    return Score(
        submission=submission,
        edition_id=submission.edition_id,
        team_id=submission.team_id,
        is_baseline=submission.is_baseline,
        submitted_at=submission.created_at,
        top1_error=(public1 + private1) / 2,
        top5_error=(public5 + private5) / 2,
        n_images=10000,
        public_top1_error=public1,
        public_top5_error=public5,
        public_n_images=5000,
        private_top1_error=private1,
        private_top5_error=private5,
        private_n_images=5000,
    )


def time_page(
    *, edition: Edition, requests: int, page: str = "leaderboard", warmup: int = 3
) -> PageTiming:
    """GET one of the edition's ``PAGES`` ``requests`` times through the whole Django stack
    (test client), then time the selectors that page calls on their own."""
    client = Client(HTTP_HOST="localhost")
    url = _page_url(edition=edition, page=page)
    for _ in range(warmup):
        assert client.get(url).status_code == 200
    page_times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        page_times.append(time.perf_counter() - started)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    selector_times = []
    for _ in range(requests):
        started = time.perf_counter()
        shown = _page_selectors(edition=edition, page=page)
        selector_times.append(time.perf_counter() - started)
    return PageTiming(
        url=url,
        shown=shown,
        queries=[
            (float(q["time"]), " ".join(q["sql"].split())[:90]) for q in queries.captured_queries
        ],
        page=latency_summary(page_times),
        selector=latency_summary(selector_times),
    )


def _page_url(*, edition: Edition, page: str) -> str:
    if page == "leaderboard":
        return edition.get_absolute_url()
    if page == "charts":
        return reverse("edition_charts", args=[edition.challenge.slug, edition.slug])
    if page == "challenge":
        return edition.challenge.get_absolute_url()
    raise ValueError(f"unknown page {page!r}; one of {', '.join(PAGES)}")


def _page_selectors(*, edition: Edition, page: str) -> str:
    """Run the reads behind ``page`` (as its view does) and say how much they returned."""
    if page == "leaderboard":
        board = selectors.edition_leaderboard(edition=edition, page=1)
        return f"{len(board.rows)} rows"
    if page == "challenge":
        history = selectors.challenge_history(challenge=edition.challenge)
        cloud = selectors.challenge_history_points(
            challenge=edition.challenge,
            parts=history.parts,
            frozen=history.frozen,
            editions=history.editions,
            boards=history.boards,
        )
        return f"{len(history.years)} years, {len(cloud)} points in the cloud"
    days = selectors.edition_daily(edition=edition)
    points = selectors.edition_efficiency(edition=edition)
    return f"{len(days)} days, {len(points)} points"


def challenge_remove(*, slug: str) -> None:
    """Delete a seeded challenge with set-based DELETEs (the ORM would load every row first)."""
    challenge = Challenge.objects.filter(slug=slug).first()
    if challenge is None:
        return
    quote = connection.ops.quote_name
    submission, score = quote(Submission._meta.db_table), quote(Score._meta.db_table)
    edition = quote(Edition._meta.db_table)
    in_challenge = f"SELECT id FROM {edition} WHERE challenge_id = %s"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {score} WHERE submission_id IN "
            f"(SELECT id FROM {submission} WHERE edition_id IN ({in_challenge}))",
            [challenge.pk],
        )
        cursor.execute(
            f"DELETE FROM {submission} WHERE edition_id IN ({in_challenge})", [challenge.pk]
        )
        challenge.delete()  # its editions, their teams and memberships, its samples
