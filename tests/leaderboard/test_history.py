"""The year-by-year history: winners and runner-ups by the leaderboard's rules, counts, baselines
at the year of their paper, reported results apart; a constant number of queries."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from leaderboard import selectors, services
from leaderboard.models import Submission

from .factories import make_edition, make_scored, make_team
from .ranking_reference import team_entries

pytestmark = pytest.mark.django_db


def random_edition(challenge, *, year: int, open_now: bool, seed: int, teams: int = 8):
    """Teams with several entries, some finals, some hidden or disqualified, coarse errors."""
    rng = random.Random(seed)
    edition = make_edition(challenge=challenge, year=year, open_now=open_now)
    start = edition.opens_at
    made = []
    for i in range(teams):
        team = make_team(edition=edition, name=f"{year}-team{i}")
        for _ in range(rng.randint(1, 6)):
            made.append(
                make_scored(
                    edition=edition,
                    team=team,
                    top1=rng.randint(0, 20) / 20,
                    top5=rng.randint(0, 10) / 20,
                    private=(rng.randint(0, 20) / 20, rng.randint(0, 10) / 20),
                    created_at=start + dt.timedelta(minutes=rng.randint(0, 600)),
                    is_final=rng.random() < 0.25,
                    moderation=rng.choice(["", "", "", "", "flagged", "hidden", "disqualified"]),
                )
            )
    failed = made[0]
    Submission.objects.filter(pk=failed.pk).update(status=Submission.Status.FAILED)
    return edition


def loaded(edition) -> list[Submission]:
    return list(Submission.objects.filter(edition=edition).select_related("score"))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_winner_and_runner_up_follow_the_leaderboard_rules(challenge, seed):
    closed = random_edition(challenge, year=2024, open_now=False, seed=seed)
    running = random_edition(challenge, year=2025, open_now=True, seed=seed + 100)

    history = selectors.challenge_history(challenge=challenge)

    (y2024,) = [row for row in history.years if row.year == 2024]
    (y2025,) = [row for row in history.years if row.year == 2025]
    for row, edition, phase in ((y2024, closed, "private"), (y2025, running, "public")):
        (summary,) = row.editions
        assert summary.final == (phase == "private")
        expected = team_entries(loaded(edition), phase=phase, metric="top5")
        assert summary.winner.submission_id == str(expected[0].pk)
        assert summary.runner_up.submission_id == str(expected[1].pk)
        assert summary.winner.top5 == getattr(expected[0].score, f"{phase}_top5_error")
        assert summary.winner.top1 == getattr(expected[0].score, f"{phase}_top1_error")
        assert summary.best_top1 == min(getattr(s.score, f"{phase}_top1_error") for s in expected)
        everything = Submission.objects.filter(edition=edition)
        assert summary.n_submissions == everything.count()
        assert summary.n_teams == everything.values("team").distinct().count()


def test_years_in_order_with_baselines_at_their_paper_year_and_reported_results(challenge):
    edition = make_edition(challenge=challenge, year=2025)
    team = make_team(edition=edition, name="students")
    make_scored(edition=edition, team=team, top1=0.2, top5=0.05)
    for method, year, top5 in (
        ("AlexNet", 2012, 0.3),
        ("AlexNet-BN", 2012, 0.2),
        ("ResNet", 2015, 0.1),
    ):
        make_scored(
            edition=edition,
            team=None,
            baseline=True,
            top1=top5 * 2,
            top5=top5,
            method=method,
            method_year=year,
        )
    hidden = make_scored(
        edition=edition,
        team=None,
        baseline=True,
        top1=0.0,
        top5=0.0,
        method="Leaky",
        method_year=2012,
        moderation="hidden",
    )
    services.reference_results_import_ilsvrc(challenge=challenge)

    history = selectors.challenge_history(challenge=challenge)

    assert [row.year for row in history.years] == [*range(2010, 2018), 2025]
    by_year = {row.year: row for row in history.years}
    assert by_year[2012].baseline.method == "AlexNet-BN"
    assert [b.method for b in by_year[2012].baselines] == ["AlexNet-BN", "AlexNet"]
    assert str(hidden.pk) not in {b.submission_id for b in by_year[2012].baselines}
    assert by_year[2015].baseline.method == "ResNet" and not by_year[2015].editions
    assert by_year[2012].reported[0].team == "SuperVision"
    assert by_year[2012].reported[0].top5_error == pytest.approx(0.1642)
    assert by_year[2025].editions[0].winner.team == "students"
    assert by_year[2025].baseline is None


def test_history_without_anything_is_empty(challenge):
    history = selectors.challenge_history(challenge=challenge)
    assert history.years == []
    assert selectors.challenge_history_points(challenge=challenge) == []


def test_points_are_every_ranked_participant_submission_in_its_phase(challenge):
    edition = make_edition(challenge=challenge, year=2024, open_now=False)
    team = make_team(edition=edition, name="t")
    shown = make_scored(edition=edition, team=team, top1=0.5, top5=0.25, private=(0.4, 0.2))
    make_scored(edition=edition, team=team, top1=0.1, top5=0.1, moderation="disqualified")
    make_scored(edition=edition, team=None, baseline=True, top1=0.3, top5=0.1, method_year=2012)

    (point,) = selectors.challenge_history_points(challenge=challenge)

    assert point.submission_id == str(shown.pk)
    assert (point.top1, point.top5, point.year, point.team) == (0.4, 0.2, 2024, "t")
    assert 0.0 <= point.fraction <= 1.0
