"""The challenge page's year-by-year table and history chart, an edition's charts, the local
plotly.js; constant query counts at two sizes."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import re

import pytest
from django.utils import timezone

from leaderboard import charts, services
from leaderboard.charts import pareto_front
from leaderboard.staticfinders import PLOTLY_STATIC_PATH

from .factories import make_edition, make_scored, make_team

pytestmark = pytest.mark.django_db


def figure(body: str, element_id: str) -> dict:
    """The figure JSON a page embeds for one chart (what charts.js hands to plotly.js)."""
    match = re.search(
        rf'<script id="{element_id}-figure" type="application/json">(.*?)</script>', body, re.S
    )
    assert match, f"no figure for {element_id}"
    return json.loads(match.group(1))


def traces(fig: dict) -> dict[str, dict]:
    return {trace["name"]: trace for trace in fig["data"]}


def seed(challenge, *, teams: int, per_team: int) -> None:
    """Two editions (one closed), teams with entries, baselines at their paper's year."""
    for year, open_now in ((2024, False), (2025, True)):
        edition = make_edition(challenge=challenge, year=year, open_now=open_now)
        for i in range(teams):
            team = make_team(edition=edition, name=f"{year}-t{i}")
            for j in range(per_team):
                make_scored(
                    edition=edition,
                    team=team,
                    top1=(i + j + 10) / 100,
                    top5=(i + j + 1) / 200,
                    created_at=edition.opens_at + dt.timedelta(hours=i + j),
                    record={"params": 1000 * (i + 1), "throughput_img_s": 500.0 / (j + 1)},
                )
    for method, year in (("AlexNet", 2012), ("ResNet-18", 2015)):
        make_scored(
            edition=edition,
            team=None,
            baseline=True,
            top1=0.3,
            top5=0.1 if year == 2012 else 0.05,
            method=method,
            method_year=year,
            record={"params": 61_000_000, "throughput_img_s": 900.0},
        )


def test_challenge_page_shows_years_winners_baselines_and_reported(client, challenge):
    seed(challenge, teams=3, per_team=2)
    services.reference_results_import_ilsvrc(challenge=challenge)

    body = client.get(challenge.get_absolute_url()).content.decode()

    years = re.findall(r'<tr data-year="(\d+)"', body)
    assert years == [str(y) for y in [*range(2010, 2018), 2024, 2025]]
    assert "SuperVision" in body and "16.42%" in body  # reported, with its source below
    assert "https://image-net.org/challenges/LSVRC/2012/results.html" in body
    assert "2024-t0" in body and "AlexNet" in body and "ResNet-18" in body

    fig = figure(body, "chart-history")
    shown = traces(fig)
    points = shown["Submissions"]
    assert len(points["x"]) == 12  # every scored participant submission, both editions
    assert {round(x) for x in points["x"]} == {2024, 2025}
    baselines = shown["Baselines (trained by us)"]
    assert baselines["x"] == [2012, 2015] and baselines["text"] == ["AlexNet", "ResNet-18"]
    reported = shown["Reported (published, not scored here)"]
    assert reported["x"] == list(range(2010, 2018)) and reported["y"][2] == pytest.approx(16.42)
    # Top-1/top-5 and linear/log switches; PNG export configured, SVG added by charts.js.
    labels = [b["label"] for menu in fig["layout"]["updatemenus"] for b in menu["buttons"]]
    assert labels == ["Top-5 error", "Top-1 error", "Linear", "Log"]
    assert fig["config"]["toImageButtonOptions"]["format"] == "png"


def test_history_chart_switch_carries_top1_values_for_every_trace(challenge):
    seed(challenge, teams=2, per_team=1)
    from leaderboard import selectors

    history = selectors.challenge_history(challenge=challenge)
    chart = charts.history_chart(
        history=history, points=selectors.challenge_history_points(challenge=challenge)
    )
    menu = chart.figure["layout"]["updatemenus"][0]
    top5, top1 = (button["args"][0]["y"] for button in menu["buttons"])
    assert len(top5) == len(top1) == len(chart.figure["data"])
    assert chart.figure["data"][0]["y"] == top5[0]  # drawn first in the primary metric
    assert top1[0] != top5[0]


@pytest.mark.parametrize("per_team", [1, 12])
def test_challenge_page_queries_do_not_grow_with_submissions(
    client, challenge, django_assert_num_queries, per_team
):
    seed(challenge, teams=4, per_team=per_team)
    services.reference_results_import_ilsvrc(challenge=challenge)
    # challenge, its editions, its samples; history: editions, ranking, reported; points.
    with django_assert_num_queries(7):
        response = client.get(challenge.get_absolute_url())
    assert response.status_code == 200


@pytest.mark.parametrize("per_team", [1, 12])
def test_leaderboard_page_with_charts_keeps_its_query_count(
    client, challenge, django_assert_num_queries, per_team
):
    seed(challenge, teams=4, per_team=per_team)
    edition = challenge.editions.get(year=2025)
    with django_assert_num_queries(4):  # edition, ranking, per-day figures, efficiency points
        response = client.get(edition.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    progress = traces(figure(body, "chart-progress"))
    assert progress["Best so far"]["y"][-1] == pytest.approx(100 * 1 / 200)
    activity = traces(figure(body, "chart-activity"))
    assert sum(activity["Scored"]["y"]) == 4 * per_team
    params = traces(figure(body, "chart-params"))
    assert len(params["Submissions"]["x"]) == 4 * per_team
    assert params["Baselines (trained by us)"]["x"] == [61_000_000, 61_000_000]
    assert params["Pareto front"]["x"]  # drawn
    assert PLOTLY_STATIC_PATH in body and "cdn" not in body.lower()


def test_leaderboard_page_with_no_entries_says_so(client, challenge):
    edition = make_edition(challenge=challenge)
    body = client.get(edition.get_absolute_url()).content.decode()
    assert "No scored submissions yet." in body and "Nothing to draw yet." in body


def test_plotly_js_is_served_from_our_static_files(client):
    response = client.get(f"/static/{PLOTLY_STATIC_PATH}")
    assert response.status_code == 200
    head = b"".join(itertools.islice(response.streaming_content, 4))[:2000]
    assert b"plotly.js" in head.lower() or b"plotly" in head.lower()


def test_after_closing_the_private_board_is_shown_and_the_public_one_on_request(client, challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    team = make_team(edition=edition, name="owls")
    make_scored(edition=edition, team=team, top1=0.1, top5=0.1, private=(0.7, 0.6))
    closed = client.get(edition.get_absolute_url()).content.decode()
    assert 'data-phase="private"' in closed and "0.6000" in closed and "Final standings" in closed
    public = client.get(edition.get_absolute_url() + "?board=public").content.decode()
    assert 'data-phase="public"' in public and "0.1000" in public


def test_while_running_asking_for_the_private_board_shows_the_public_one(client, edition):
    team = make_team(edition=edition, name="owls")
    make_scored(edition=edition, team=team, top1=0.1, top5=0.1, private=(0.7, 0.6))
    body = client.get(edition.get_absolute_url() + "?board=private").content.decode()
    assert 'data-phase="public"' in body and "0.6000" not in body


def brute_force_front(points, *, lower_x_is_better):
    def better_or_equal(a, b):
        x_ok = a[0] <= b[0] if lower_x_is_better else a[0] >= b[0]
        return x_ok and a[1] >= b[1]

    return sorted(
        (
            i
            for i, p in enumerate(points)
            if not any(better_or_equal(q, p) and q != p for q in points)
        ),
        key=lambda i: points[i][0],
    )


@pytest.mark.parametrize("lower_x_is_better", [True, False])
def test_pareto_front_against_brute_force(lower_x_is_better):
    rng = random.Random(7)
    for _ in range(50):
        points = list({(rng.randint(1, 20), rng.randint(0, 20)) for _ in range(rng.randint(1, 30))})
        got = pareto_front(points, lower_x_is_better=lower_x_is_better)
        assert got == brute_force_front(points, lower_x_is_better=lower_x_is_better)


def test_edition_charts_use_the_editions_time_zone_for_days(challenge):
    from leaderboard import selectors

    edition = make_edition(challenge=challenge)
    edition.time_zone = "America/Los_Angeles"
    edition.save()
    team = make_team(edition=edition, name="t")
    # 02:00 UTC is the previous evening in Los Angeles.
    moment = timezone.now().replace(hour=2, minute=0, second=0, microsecond=0)
    make_scored(edition=edition, team=team, top1=0.2, top5=0.1, created_at=moment)
    (day,) = selectors.edition_daily(edition=edition)
    assert (
        day.day == (moment - dt.timedelta(hours=8)).date()
        or day.day == (moment - dt.timedelta(hours=7)).date()
    )
    assert (day.submissions, day.scored, day.best) == (1, 1, 0.1)
