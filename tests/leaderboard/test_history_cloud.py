"""The history chart's cloud against the rules written out on the rows: every scored, ranked
participant entry of an edition with up to ``cap`` of them; above it, each team's entry on the
edition's board (ties to the earlier entry, then the smaller id; hidden and withdrawn entries
left out; a frozen board as at its freeze), so that the record and the winners stay exact."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from leaderboard import charts, selectors
from leaderboard.models import Edition, Score, Submission
from leaderboard.selectors.history import CLOUD_CAP

from .factories import make_edition, make_scored, make_team
from .ranking_reference import RANKED, team_entries

pytestmark = pytest.mark.django_db


def random_edition(challenge, *, year: int, open_now: bool, seed: int, teams: int = 6):
    """Teams with several entries on coarse errors (ties, equal times), some finals, hidden,
    disqualified or failed ones, and two baselines, one of them switched off by the host."""
    rng = random.Random(seed)
    edition = make_edition(challenge=challenge, year=year, open_now=open_now)
    same_time = edition.opens_at + dt.timedelta(minutes=5)
    for i in range(teams):
        team = make_team(edition=edition, name=f"{year}-team{i}")
        for _ in range(rng.randint(1, 6)):
            made = make_scored(
                edition=edition,
                team=team,
                top1=rng.randint(0, 8) / 8,
                top5=rng.randint(0, 4) / 8,
                private=(rng.randint(0, 8) / 8, rng.randint(0, 4) / 8),
                created_at=rng.choice(
                    [same_time, edition.opens_at + dt.timedelta(minutes=rng.randint(0, 600))]
                ),
                is_final=rng.random() < 0.25,
                moderation=rng.choice(["", "", "", "flagged", "hidden", "disqualified"]),
            )
            if rng.random() < 0.1:
                Submission.objects.filter(pk=made.pk).update(status=Submission.Status.FAILED)
    for method, hidden in (("AlexNet", False), ("Switched off", True)):
        make_scored(
            edition=edition,
            team=None,
            baseline=True,
            top1=0.01,
            top5=0.0,
            method=method,
            method_year=2012,
            hidden_by_host=hidden,
        )
    return edition


def rows(edition: Edition) -> list[Submission]:
    return list(Submission.objects.filter(edition=edition).select_related("score", "team"))


def every_entry(edition: Edition, *, phase: str) -> list[tuple]:
    """Each scored, ranked participant entry with its values on ``phase``."""
    return sorted(
        (str(s.pk), s.team.name, *_values(s, phase))
        for s in rows(edition)
        if not s.is_baseline and s.status == "scored" and s.moderation in RANKED
    )


def _values(submission: Submission, phase: str) -> tuple:
    score = submission.score
    return getattr(score, f"{phase}_top1_error"), getattr(score, f"{phase}_top5_error")


def cloud(points, edition: Edition) -> list[tuple]:
    return sorted(
        (p.submission_id, p.team, p.top1, p.top5) for p in points if p.edition_id == edition.pk
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_crowded_edition_draws_each_teams_entry_on_its_board(challenge, seed):
    closed = random_edition(challenge, year=2024, open_now=False, seed=seed)
    running = random_edition(challenge, year=2025, open_now=True, seed=seed + 50)

    points = selectors.challenge_history_points(challenge=challenge, cap=3)

    for edition, phase in ((closed, "private"), (running, "public")):
        expected = team_entries(rows(edition), phase=phase, metric="top5")[:3]  # its first teams
        assert cloud(points, edition) == sorted(
            (str(s.pk), s.team.name, *_values(s, phase)) for s in expected
        )
    assert all(p.per_team for p in points)
    assert [p.created_at for p in points] == sorted(p.created_at for p in points)
    # The winners are points of the cloud: the record and the year's best stay exact.
    history = selectors.challenge_history(challenge=challenge)
    winners = {s.winner.submission_id for row in history.years for s in row.editions}
    assert winners <= {p.submission_id for p in points}
    methods = {b.method for row in history.years for b in row.baselines}
    assert methods == {"AlexNet"}  # the baseline its host switched off is on no year


@pytest.mark.parametrize("seed", [4, 5])
def test_an_edition_under_the_cap_draws_every_scored_entry(challenge, seed):
    closed = random_edition(challenge, year=2024, open_now=False, seed=seed)
    running = random_edition(challenge, year=2025, open_now=True, seed=seed + 50)

    points = selectors.challenge_history_points(challenge=challenge)

    for edition, phase in ((closed, "private"), (running, "public")):
        assert cloud(points, edition) == every_entry(edition, phase=phase)
    assert not any(p.per_team for p in points)


def test_the_cap_is_per_edition(challenge):
    small = random_edition(challenge, year=2024, open_now=False, seed=7, teams=2)
    big = random_edition(challenge, year=2025, open_now=True, seed=8, teams=8)
    cap = len(every_entry(small, phase="private"))
    assert len(every_entry(big, phase="public")) > cap

    points = selectors.challenge_history_points(challenge=challenge, cap=cap)

    assert cloud(points, small) == every_entry(small, phase="private")
    expected = team_entries(rows(big), phase="public", metric="top5")[:cap]
    assert cloud(points, big) == sorted(
        (str(s.pk), s.team.name, *_values(s, "public")) for s in expected
    )


def test_a_frozen_crowded_board_is_drawn_as_at_its_freeze(challenge):
    edition = make_edition(challenge=challenge, year=2025, open_now=True)
    early, late = make_team(edition=edition, name="early"), make_team(edition=edition, name="late")
    lead = make_scored(edition=edition, team=early, top1=0.3, top5=0.2, method="lead")
    make_scored(edition=edition, team=early, top1=0.5, top5=0.4, method="worse")
    make_scored(edition=edition, team=late, top1=0.4, top5=0.3, method="slow")
    Score.objects.update(created_at=timezone.now() - dt.timedelta(hours=2))
    Edition.objects.filter(pk=edition.pk).update(
        board_frozen_at=timezone.now() - dt.timedelta(hours=1)
    )
    make_scored(edition=edition, team=late, top1=0.1, top5=0.05, method="fast")  # after it

    points = selectors.challenge_history_points(challenge=challenge, cap=2)

    assert sorted((p.team, p.method) for p in points) == [("early", "lead"), ("late", "slow")]
    board = selectors.edition_leaderboard(edition=Edition.objects.get(pk=edition.pk))
    assert {p.submission_id for p in points} == {str(r.pk) for r in board.rows}
    assert str(lead.pk) in {p.submission_id for p in points}
    (first,) = selectors.challenge_history_points(challenge=challenge, cap=1)  # the leader
    assert (first.team, first.method) == ("early", "lead")
    uncapped = selectors.challenge_history_points(challenge=challenge)
    assert sorted(p.method for p in uncapped) == ["lead", "slow", "worse"]


def test_the_chart_says_which_years_draw_each_teams_entry(challenge):
    random_edition(challenge, year=2024, open_now=False, seed=9)
    history = selectors.challenge_history(challenge=challenge)
    points = selectors.challenge_history_points(challenge=challenge, cap=2)
    teams = len(points)

    chart = charts.history_chart(history=history, points=points)

    assert chart.subtitle.startswith("2024: more than") and f"{CLOUD_CAP:,}" in chart.subtitle
    (row,) = [r for r in chart.table.rows if r[1] == "Submissions"]
    assert row[2] == (
        f"{teams} teams' entries on the board (over {CLOUD_CAP:,} scored; "
        f"the first {CLOUD_CAP:,} teams)"
    )
    assert "each team's entry" in chart.summary
    uncapped = charts.history_chart(
        history=history, points=selectors.challenge_history_points(challenge=challenge)
    )
    assert uncapped.subtitle == ""


def test_the_cloud_costs_the_same_queries_crowded_or_not(challenge, django_assert_num_queries):
    for year, seed in ((2023, 10), (2024, 11), (2025, 12)):
        random_edition(challenge, year=year, open_now=year == 2025, seed=seed)
    history = selectors.challenge_history(challenge=challenge)
    kwargs = {"parts": history.parts, "frozen": history.frozen, "editions": history.editions}
    # Every edition under the cap: the bounded count and the entries.
    with django_assert_num_queries(2):
        selectors.challenge_history_points(challenge=challenge, **kwargs)
    # Every edition over it: the bounded count and the ranking, or the history's boards.
    with django_assert_num_queries(2):
        crowded = selectors.challenge_history_points(challenge=challenge, cap=1, **kwargs)
    with django_assert_num_queries(1):
        reused = selectors.challenge_history_points(
            challenge=challenge, cap=1, boards=history.boards, **kwargs
        )
    assert reused == crowded and all(p.per_team for p in reused)
