"""The challenge page's year-by-year table and history chart, an edition's charts page (apart
from its leaderboard), the local plotly.js; constant query counts at two sizes."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from leaderboard import charts, selectors, services
from leaderboard.charts import pareto_front
from leaderboard.models import Submission
from leaderboard.selectors.charts import DayStat, EfficiencyPoint
from leaderboard.staticfinders import PLOTLY_STATIC_PATH

from .factories import make_edition, make_scored, make_team

pytestmark = pytest.mark.django_db
HIDDEN = {"moderation": "hidden", "moderation_reason": "copied"}


def figure(body: str, element_id: str) -> dict:
    """The figure JSON a page embeds for one chart (what charts.js hands to plotly.js)."""
    match = re.search(
        rf'<script id="{element_id}-figure" type="application/json">(.*?)</script>', body, re.S
    )
    assert match, f"no figure for {element_id}"
    return json.loads(match.group(1))


def traces(fig: dict) -> dict[str, dict]:
    return {trace["name"]: trace for trace in fig["data"]}


def measured(*, params: int, throughput: float) -> dict:
    """A record as the scorer writes it: a count from the file, a rate from the parent."""
    return {
        "params": params,
        "params_source": "file",
        "throughput_img_s": throughput,
        "throughput_source": "parent",
    }


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
                    record=measured(params=1000 * (i + 1), throughput=500.0 / (j + 1)),
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
    reported = shown["Reported on Fashion (published, not scored here)"]  # the challenge's set
    assert reported["x"] == list(range(2010, 2018)) and reported["y"][2] == pytest.approx(16.42)
    # Top-1/top-5 and linear/log switches; PNG export configured, SVG added by charts.js.
    labels = [b["label"] for menu in fig["layout"]["updatemenus"] for b in menu["buttons"]]
    assert labels == ["Top-5 error", "Top-1 error", "Linear", "Log"]
    assert fig["config"]["toImageButtonOptions"]["format"] == "png"


def test_history_chart_switch_carries_top1_values_for_every_trace(challenge):
    seed(challenge, teams=2, per_team=1)
    history = selectors.challenge_history(challenge=challenge)
    chart = charts.history_chart(
        history=history, points=selectors.challenge_history_points(challenge=challenge)
    )
    menu = chart.figure["layout"]["updatemenus"][0]
    top5, top1 = (button["args"][0]["y"] for button in menu["buttons"])
    assert len(top5) == len(top1) == len(chart.figure["data"])
    assert chart.figure["data"][0]["y"] == top5[0]  # drawn first in the primary metric
    assert top1[0] != top5[0]


def test_the_history_draws_the_record_as_a_line_and_each_years_best_as_points(challenge):
    """A later year's best may be worse than an earlier one (a simpler network): the record, the
    best so far, never rises; the year's best stays, as a point above it."""
    for year, error in ((2013, 0.096), (2014, 0.079), (2015, 0.12)):
        edition = make_edition(challenge=challenge, year=year, open_now=False)
        make_scored(
            edition=edition,
            team=make_team(edition=edition, name=f"t{year}"),
            top1=error,
            top5=error,
        )
    chart = charts.history_chart(
        history=selectors.challenge_history(challenge=challenge),
        points=selectors.challenge_history_points(challenge=challenge),
    )
    record, bests = chart.traces["Best so far"], chart.traces["Best of each year"]
    assert bests["mode"] == "markers" and bests["x"] == [2013, 2014, 2015]
    assert bests["y"] == pytest.approx([9.6, 7.9, 12.0])
    assert record["line"]["shape"] == "hv" and record["x"] == [2012.5, 2013.5, 2014.5, 2015.5]
    assert record["y"] == pytest.approx([9.6, 7.9, 7.9, 7.9])  # the last step held to the end
    for button in chart.figure["layout"]["updatemenus"][0]["buttons"]:  # each metric's record
        line = [value for value in button["args"][0]["y"][1] if value is not None]
        assert line and all(a >= b for a, b in itertools.pairwise(line)), button["label"]


@pytest.mark.parametrize("per_team", [1, 12])
def test_challenge_page_queries_do_not_grow_with_submissions(
    client, challenge, django_assert_num_queries, per_team
):
    seed(challenge, teams=4, per_team=per_team)
    services.reference_results_import_ilsvrc(challenge=challenge)
    # challenge, its editions, its samples; history: editions, ranking, reported; points: the
    # editions with more than CLOUD_CAP entries (one bounded count), every entry of the others;
    # the starting kit: the newest training import, the baseline entries (its example model);
    # the baselines' notice: the editions, every edition's pending baselines in one count;
    # the baselines table: the newest edition's baseline entries with their scores.
    with django_assert_num_queries(13):
        response = client.get(challenge.get_absolute_url())
    assert response.status_code == 200


@pytest.mark.parametrize("per_team", [1, 12])
def test_leaderboard_page_costs_the_ranking_only_and_links_to_the_charts(
    client, challenge, django_assert_num_queries, per_team
):
    seed(challenge, teams=4, per_team=per_team)
    edition = challenge.editions.get(year=2025)
    # edition, ranking, the announcements shown, the baselines still being scored
    with django_assert_num_queries(4):
        response = client.get(edition.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    charts_url = reverse("edition_charts", args=[challenge.slug, edition.slug])
    assert f'id="charts-link" href="{charts_url}"' in body
    assert "-figure" not in body and PLOTLY_STATIC_PATH not in body  # no chart, no plotly.js


@pytest.mark.parametrize("per_team", [1, 12])
def test_charts_page_keeps_its_query_count(client, challenge, django_assert_num_queries, per_team):
    seed(challenge, teams=4, per_team=per_team)
    edition = challenge.editions.get(year=2025)
    services.activity_rebuild(edition=edition)  # seeded around the services
    url = reverse("edition_charts", args=[challenge.slug, edition.slug])
    # The edition, the stored per-day figures, each team's best and the baselines with their
    # records.
    with django_assert_num_queries(3):
        response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'href="{edition.get_absolute_url()}"' in body  # back to the leaderboard
    progress = traces(figure(body, "chart-progress"))
    assert progress["Best so far"]["y"][-1] == pytest.approx(100 * 1 / 200)
    activity = traces(figure(body, "chart-activity"))
    assert sum(activity["Scored"]["y"]) == 4 * per_team
    params = traces(figure(body, "chart-params"))
    assert len(params["Teams (best entry)"]["x"]) == 4  # one per team, whatever its entries
    assert params["Baselines (trained by us)"]["x"] == [61_000_000, 61_000_000]
    assert params["Pareto front"]["x"]  # drawn
    assert "One point per team" in body  # the subtitle says what is left out
    assert PLOTLY_STATIC_PATH in body and "cdn" not in body.lower()


def test_charts_keep_errors_at_or_above_zero_count_whole_submissions_and_name_baselines(
    client, challenge
):
    seed(challenge, teams=2, per_team=1)
    edition = challenge.editions.get(year=2025)
    url = reverse("edition_charts", args=[challenge.slug, edition.slug])
    body = client.get(url).content.decode()

    error_axis = figure(body, "chart-progress")["layout"]["yaxis"]
    assert error_axis["autorangeoptions"] == {"minallowed": 0}  # never below 0%
    counts = figure(body, "chart-activity")["layout"]["yaxis"]
    assert (counts["dtick"], counts["tickformat"], counts["rangemode"]) == (1, ",d", "tozero")
    for element_id in ("chart-params", "chart-throughput"):
        shown = traces(figure(body, element_id))
        diamonds = shown["Baselines (trained by us)"]
        assert diamonds["mode"] == "markers+text"
        assert shown["Teams (best entry)"]["mode"] == "markers"  # too many to label
    diamonds = traces(figure(body, "chart-params"))["Baselines (trained by us)"]
    assert sorted(diamonds["text"]) == ["AlexNet", "ResNet-18"]  # each named beside it
    assert diamonds["cliponaxis"] is False and len(diamonds["textposition"]) == 2

    named = [
        ("MLP 784-30-10, sigmoid (Nielsen)", 24_000),
        ("LeNet-5", 61_000),
        ("AlexNet (1/8 width, batch norm)", 480_000),
    ]
    points = [
        EfficiencyPoint(
            submission_id=str(i), team=None, method=method, is_baseline=True, accuracy=0.9,
            params=params, throughput=None,
        )
        for i, (method, params) in enumerate(named)
    ]  # fmt: skip
    chart = charts.efficiency_chart(
        edition=edition, points=points, x_field="params", phase="public"
    )
    diamonds = chart.traces["Baselines (trained by us)"]
    assert diamonds["text"] == ["MLP 784-30-10", "LeNet-5", "AlexNet"]  # full names in the hover
    assert diamonds["textposition"] == ["top right", "top center", "top left"]  # never cut off

    busy = [DayStat(day=dt.date(2025, 3, 1), submissions=40, scored=30, best=0.1, best_so_far=0.1)]
    counts = charts.activity_chart(edition=edition, days=busy).figure["layout"]["yaxis"]
    assert "dtick" not in counts and counts["tickformat"] == ",d"  # plotly's round steps


def test_leaderboard_and_charts_pages_with_no_entries_say_so(client, challenge):
    edition = make_edition(challenge=challenge)
    body = client.get(edition.get_absolute_url()).content.decode()
    assert "No scored submissions yet." in body
    charts_url = reverse("edition_charts", args=[challenge.slug, edition.slug])
    assert "Nothing to draw yet." in client.get(charts_url).content.decode()


@pytest.mark.parametrize("open_now", [True, False])
def test_efficiency_points_are_each_teams_best_entry_and_every_baseline(challenge, open_now):
    """Best by top-1 error on the phase's part (a tie to the earlier entry); hidden,
    disqualified and unscored entries left out; every ranked baseline in."""
    edition = make_edition(challenge=challenge, open_now=open_now)
    start = edition.opens_at
    rng = random.Random(3)
    best, baselines = set(), set()
    for i in range(6):
        team = make_team(edition=edition, name=f"t{i}")
        entries = []
        for j in range(5):
            public, private = rng.randint(5, 60) / 100, rng.randint(5, 60) / 100
            entries.append(
                make_scored(
                    edition=edition,
                    team=team,
                    top1=public,
                    top5=public / 2,
                    private=(private, private / 2),
                    created_at=start + dt.timedelta(hours=j),
                    record=measured(params=rng.randint(1, 9) * 1000, throughput=100 + j),
                )
            )
        column = "public_top1_error" if open_now else "private_top1_error"
        errors = {e.pk: getattr(e.score, column) for e in entries}
        best.add(str(min(entries, key=lambda e: (errors[e.pk], e.created_at)).pk))
        # Better than the best, but not ranked: left out.
        make_scored(edition=edition, team=team, top1=0.01, top5=0.01, moderation="hidden")
        failed = make_scored(edition=edition, team=team, top1=0.01, top5=0.01)
        Submission.objects.filter(pk=failed.pk).update(status=Submission.Status.FAILED)
    make_team(edition=edition, name="no entries")
    for k in range(3):
        baseline = make_scored(
            edition=edition,
            team=None,
            baseline=True,
            top1=0.2 + k / 10,
            top5=0.1,
            method=f"baseline {k}",
            record={"params": 10**6 * (k + 1)},
        )
        baselines.add(str(baseline.pk))
    make_scored(
        edition=edition, team=None, baseline=True, top1=0.2, top5=0.1, moderation="disqualified"
    )

    points = selectors.edition_efficiency(edition=edition)

    assert {p.submission_id for p in points if not p.is_baseline} == best
    assert {p.submission_id for p in points if p.is_baseline} == baselines
    assert len(points) == len(best) + len(baselines)  # nobody twice
    phase = "public" if open_now else "private"
    chart = charts.efficiency_chart(edition=edition, points=points, x_field="params", phase=phase)
    xy = {p.submission_id: (p.params, p.accuracy) for p in points if p.params is not None}
    drawn = [xy[submission_id] for (submission_id,) in chart.figure["data"][2]["customdata"]]
    expected = brute_force_front(list(xy.values()), lower_x_is_better=True)
    assert set(drawn) == {list(xy.values())[i] for i in expected}
    assert f"{phase} part" in chart.subtitle


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
    assert 'data-phase="private"' in closed and "60.00%" in closed and "Final standings" in closed
    public = client.get(edition.get_absolute_url() + "?board=public").content.decode()
    assert 'data-phase="public"' in public and "10.00%" in public


def test_while_running_asking_for_the_private_board_shows_the_public_one(client, edition):
    team = make_team(edition=edition, name="owls")
    make_scored(edition=edition, team=team, top1=0.1, top5=0.1, private=(0.7, 0.6))
    body = client.get(edition.get_absolute_url() + "?board=private").content.decode()
    assert 'data-phase="public"' in body and "60.00%" not in body


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


def test_edition_daily_counts_every_submission_and_keeps_the_best_ranked_one(challenge):
    """One row a day: all participant submissions, the scored and ranked ones, the best public
    error of the day among those, and the running minimum; baselines and other editions out."""
    edition = make_edition(challenge=challenge)
    other = make_edition(challenge=challenge, year=2024)
    team = make_team(edition=edition, name="t")
    first = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    second = first + dt.timedelta(days=1)
    third = first + dt.timedelta(days=2)
    make_scored(edition=edition, team=team, top1=0.5, top5=0.30, created_at=first)
    make_scored(edition=edition, team=team, top1=0.5, top5=0.20, created_at=first)
    make_scored(edition=edition, team=team, top1=0.5, top5=0.01, created_at=second, **HIDDEN)
    failed = make_scored(edition=edition, team=team, top1=0.5, top5=0.01, created_at=second)
    Submission.objects.filter(pk=failed.pk).update(status=Submission.Status.FAILED)
    make_scored(edition=edition, team=team, top1=0.5, top5=0.25, created_at=second)
    make_scored(edition=edition, team=team, top1=0.5, top5=0.10, created_at=third)
    make_scored(edition=edition, team=None, baseline=True, top1=0.1, top5=0.001, created_at=third)
    other_team = make_team(edition=other, name="o")
    make_scored(edition=other, team=other_team, top1=0.1, top5=0.001, created_at=third)

    days = selectors.edition_daily(edition=edition)

    assert [(d.submissions, d.scored, d.best, d.best_so_far) for d in days] == [
        (2, 2, 0.20, 0.20),
        (3, 1, 0.25, 0.20),
        (1, 1, 0.10, 0.10),
    ]
