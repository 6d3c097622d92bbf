"""The history's robust error: per entry in its phase, best per year, and the chart's toggle."""

from __future__ import annotations

import pytest

from leaderboard import charts, selectors
from leaderboard.models import Score

from .factories import make_edition, make_scored, make_team

pytestmark = pytest.mark.django_db


def with_robust(submission, public: float, private: float):
    Score.objects.filter(submission=submission).update(
        public_robust_error=public,
        private_robust_error=private,
        robust_error=(public + private) / 2,
    )
    return submission


def history_with_robustness(challenge):
    closed = make_edition(challenge=challenge, year=2024, open_now=False)
    running = make_edition(challenge=challenge, year=2025, open_now=True)
    for edition in (closed, running):
        for i, (top1, robust) in enumerate(((0.10, 0.40), (0.20, 0.30))):
            team = make_team(edition=edition, name=f"{edition.year}-{i}")
            with_robust(
                make_scored(edition=edition, team=team, top1=top1, top5=top1 / 2),
                robust,
                robust + 0.05,
            )
    for year, robust in ((1998, 0.70), (2015, 0.35)):
        with_robust(
            make_scored(
                edition=running,
                team=None,
                baseline=True,
                top1=0.1,
                top5=0.05,
                method_year=year,
                method=f"net{year}",
            ),
            robust,
            robust + 0.01,
        )
    make_scored(
        edition=running, team=None, baseline=True, top1=0.2, top5=0.1, method_year=2012
    )  # scored before the track was on: no robust error
    return selectors.challenge_history(challenge=challenge), selectors.challenge_history_points(
        challenge=challenge
    )


def test_each_entry_carries_its_robust_error_in_its_phase(challenge):
    history, points = history_with_robustness(challenge)
    rows = {row.year: row for row in history.years}
    closed = rows[2024].editions[0]
    assert closed.winner.top1 == 0.10 and closed.winner.robust == 0.45  # private part
    assert closed.best_robust == 0.35  # the runner-up is the more robust
    running = rows[2025].editions[0]
    assert running.winner.robust == 0.40 and running.best_robust == 0.30  # public part
    assert rows[1998].baseline.robust == 0.70  # its edition runs: the public part
    assert rows[2012].baseline.robust is None
    assert sorted(p.robust for p in points) == [0.30, 0.35, 0.40, 0.45]


def test_the_chart_offers_the_robust_error_once_anything_has_one(challenge):
    history, points = history_with_robustness(challenge)
    chart = charts.history_chart(history=history, points=points)
    switch = chart.figure["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in switch] == ["Top-5 error", "Top-1 error", "Robust error"]
    robust_ys = switch[2]["args"][0]["y"]
    assert sorted(robust_ys[0]) == [30.0, 35.0, 40.0, 45.0]  # every submission's point
    assert robust_ys[3] == [70.0, None, 35.0]  # baselines 1998, 2012 (none), 2015
    assert switch[2]["args"][1] == {"yaxis.title.text": "Robust error (%)"}
    best = dict(zip(chart.traces["Best of each year"]["x"], robust_ys[2], strict=True))
    assert best[2024] == 35.0 and best[2025] == 30.0 and best[1998] == 70.0


def test_without_robust_scores_the_chart_keeps_two_metrics(challenge):
    edition = make_edition(challenge=challenge, year=2025)
    make_scored(edition=edition, team=make_team(edition=edition, name="t"), top1=0.1, top5=0.05)
    history = selectors.challenge_history(challenge=challenge)
    points = selectors.challenge_history_points(challenge=challenge)
    chart = charts.history_chart(history=history, points=points)
    labels = [b["label"] for b in chart.figure["layout"]["updatemenus"][0]["buttons"]]
    assert labels == ["Top-5 error", "Top-1 error"]
