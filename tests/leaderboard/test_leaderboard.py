"""The leaderboard query against an independent Python ranking, and its constant query count."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from leaderboard import selectors
from leaderboard.models import Metric, Submission

from .factories import make_edition, make_scored, make_team
from .ranking_reference import RANKED, team_entries

pytestmark = pytest.mark.django_db

FIELDS = {
    ("public", "top1"): "public_top1_error",
    ("public", "top5"): "public_top5_error",
    ("private", "top1"): "private_top1_error",
    ("private", "top5"): "private_top5_error",
}


def expected_ranking(submissions: list[Submission], *, phase: str, metric: str) -> list[tuple]:
    """The rules in plain Python (``ranking_reference``), baselines each their own row."""
    key = FIELDS[(phase, metric)]

    def order(s: Submission) -> tuple:
        return (getattr(s.score, key), s.created_at, str(s.pk))

    rows = team_entries(submissions, phase=phase, metric=metric)
    rows += [s for s in submissions if s.is_baseline and s.moderation in RANKED]
    rows.sort(key=order)
    positions = {True: 0, False: 0}
    ranked = []
    for s in rows:
        positions[s.is_baseline] += 1
        ranked.append((str(s.pk), positions[s.is_baseline], getattr(s.score, key)))
    return ranked


def random_board(edition, *, seed: int) -> list[Submission]:
    """Many teams with several entries each, coarse errors (so ties happen), a few baselines."""
    rng = random.Random(seed)
    start = timezone.now() - dt.timedelta(days=10)
    teams = [make_team(edition=edition, name=f"team{i}") for i in range(12)]
    made = []
    for _ in range(90):
        is_baseline = rng.random() < 0.1
        made.append(
            make_scored(
                edition=edition,
                team=None if is_baseline else rng.choice(teams),
                baseline=is_baseline,
                top1=rng.randint(0, 20) / 20,
                top5=rng.randint(0, 10) / 20,
                private=(rng.randint(0, 20) / 20, rng.randint(0, 10) / 20),
                # Equal timestamps too, so the last tie-break (id) is exercised.
                created_at=start + dt.timedelta(minutes=rng.randint(0, 40)),
                # Some chosen finals (they decide the private board), some moderated entries.
                is_final=not is_baseline and rng.random() < 0.2,
                moderation=rng.choice(["", "", "", "", "flagged", "hidden", "disqualified"]),
            )
        )
    return list(Submission.objects.filter(pk__in=[s.pk for s in made]).select_related("score"))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(("phase", "metric"), list(FIELDS))
def test_ranking_matches_an_independent_computation(challenge, seed, phase, metric):
    edition = make_edition(challenge=challenge)
    submissions = random_board(edition, seed=seed)

    rows = selectors.leaderboard_rows(edition=edition, phase=phase, metric=metric)

    got = [(str(r.pk), r.position, r.metric_value) for r in rows]
    assert got == expected_ranking(submissions, phase=phase, metric=metric)
    team_rows = [r for r in rows if not r.is_baseline]
    ranked = [s for s in submissions if not s.is_baseline and s.moderation in RANKED]
    assert len(team_rows) == len({s.team_id for s in ranked})


def test_tie_goes_to_the_earlier_submission_and_baselines_are_marked(challenge):
    edition = make_edition(challenge=challenge)
    t0 = timezone.now() - dt.timedelta(hours=5)
    late = make_team(edition=edition, name="late")
    early = make_team(edition=edition, name="early")
    make_scored(edition=edition, team=late, top1=0.3, top5=0.1, created_at=t0 + dt.timedelta(1))
    make_scored(edition=edition, team=early, top1=0.3, top5=0.1, created_at=t0)
    make_scored(edition=edition, team=early, top1=0.2, top5=0.1, created_at=t0 + dt.timedelta(2))
    make_scored(edition=edition, team=None, baseline=True, top1=0.5, top5=0.2, method="AlexNet")
    make_scored(edition=edition, team=None, baseline=True, top1=0.1, top5=0.05, method="ResNet")

    board = selectors.edition_leaderboard(edition=edition)

    assert board.phase == "public" and board.metric == Metric.TOP5
    summary = [(r.team_name, r.is_baseline, r.position, r.team_entries) for r in board.rows]
    assert summary == [
        (None, True, 1, 1),
        ("early", False, 1, 2),
        ("late", False, 2, 1),
        (None, True, 2, 1),
    ]
    # The team's best entry is its earliest at the best top-5 error, not its best top-1.
    assert board.rows[1].created_at == t0


def test_private_scores_decide_after_closing(challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    a, b = make_team(edition=edition, name="a"), make_team(edition=edition, name="b")
    make_scored(edition=edition, team=a, top1=0.1, top5=0.1, private=(0.9, 0.9))
    make_scored(edition=edition, team=b, top1=0.5, top5=0.5, private=(0.2, 0.2))

    board = selectors.edition_leaderboard(edition=edition)

    assert board.phase == "private"
    assert [r.team_name for r in board.rows] == ["b", "a"]
    open_board = selectors.edition_leaderboard(edition=edition, now=edition.opens_at)
    assert [r.team_name for r in open_board.rows] == ["a", "b"]


def test_only_scored_submissions_of_this_edition_count(challenge):
    edition = make_edition(challenge=challenge)
    other = make_edition(challenge=challenge, year=2024)
    team = make_team(edition=edition, name="t")
    make_scored(edition=edition, team=team, top1=0.5, top5=0.5)
    failed = make_scored(edition=edition, team=team, top1=0.0, top5=0.0)
    Submission.objects.filter(pk=failed.pk).update(status=Submission.Status.FAILED)
    make_scored(edition=other, team=make_team(edition=other, name="o"), top1=0, top5=0)

    rows = selectors.leaderboard_rows(edition=edition, phase="public", metric="top5")
    assert [(r.team_name, r.metric_value) for r in rows] == [("t", 0.5)]


@pytest.mark.parametrize("teams", [3, 40])
def test_leaderboard_page_costs_the_same_queries_at_any_size(
    client, challenge, django_assert_num_queries, teams
):
    edition = make_edition(challenge=challenge)
    for i in range(teams):
        team = make_team(edition=edition, name=f"team {i}")
        for j in range(3):
            make_scored(edition=edition, team=team, top1=(i + j) / 200, top5=(i * j) / 400)
    make_scored(edition=edition, team=None, baseline=True, top1=0.4, top5=0.2, method="AlexNet")
    url = reverse("edition_leaderboard", args=[challenge.slug, edition.slug])

    # The edition (with its challenge), the ranking, the announcements shown and the baselines
    # still being scored: the charts have a page of their own.
    with django_assert_num_queries(4):
        response = client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<tr") == teams + 2  # header, teams, one baseline
    assert "AlexNet" in body and "baseline" in body
