"""The charts built without plotly's validators (``charts.base.Figure``) are what plotly's own
``go.Figure`` makes of them: read back through it, every figure gives the same JSON, so a
misspelt property or a value plotly would reject or rewrite fails here."""

from __future__ import annotations

import datetime as dt
import json

import plotly.graph_objects as go
import pytest

from leaderboard import charts, selectors, services
from leaderboard.charts.base import Figure, bar, plotly_template, scatter

from .factories import make_edition, make_scored, make_team

pytestmark = pytest.mark.django_db


def through_plotly(figure: dict) -> dict:
    """The figure as plotly writes it after validating every property."""
    return json.loads(go.Figure(data=figure["data"], layout=figure["layout"]).to_json())


def plain(figure: dict) -> dict:
    return json.loads(json.dumps({"data": figure["data"], "layout": figure["layout"]}))


def seed(challenge) -> None:
    for year, open_now in ((2024, False), (2025, True)):
        edition = make_edition(challenge=challenge, year=year, open_now=open_now)
        for i in range(3):
            team = make_team(edition=edition, name=f"{year}-t{i}")
            for j in range(2):
                make_scored(
                    edition=edition,
                    team=team,
                    top1=(i + j + 10) / 100,
                    top5=(i + j + 1) / 200,
                    created_at=edition.opens_at + dt.timedelta(hours=5 * i + 30 * j),
                    record={
                        "params": 1000 * (i + 1),
                        "params_source": "file",
                        "throughput_img_s": 500.0 / (j + 1),
                        "throughput_source": "parent",
                    },
                )
    make_scored(
        edition=edition,
        team=None,
        baseline=True,
        top1=0.3,
        top5=0.1,
        method="AlexNet (1/8 width)",
        method_year=2012,
        record={"params": 61_000_000, "throughput_img_s": 900.0},
    )
    services.reference_results_import_ilsvrc(challenge=challenge)


def built_charts(challenge) -> list[charts.base.Chart]:
    history = selectors.challenge_history(challenge=challenge)
    made = [
        charts.history_chart(
            history=history, points=selectors.challenge_history_points(challenge=challenge)
        ),
        charts.history_chart(
            history=history, points=selectors.challenge_history_points(challenge=challenge, cap=1)
        ),
    ]
    for edition in challenge.editions.all():
        days = selectors.edition_daily(edition=edition)
        points = selectors.edition_efficiency(edition=edition)
        phase = selectors.edition_phase(edition=edition)
        made += [
            charts.progress_chart(edition=edition, days=days),
            charts.activity_chart(edition=edition, days=days),
            *(
                charts.efficiency_chart(edition=edition, points=points, x_field=x, phase=phase)
                for x in ("params", "throughput")
            ),
        ]
    return made


def test_every_chart_reads_back_through_plotly_unchanged(challenge):
    seed(challenge)
    made = built_charts(challenge)
    assert len(made) == 10
    for chart in made:
        assert chart.figure["data"], chart.element_id
        assert plain(chart.figure) == through_plotly(chart.figure), chart.element_id


def test_the_charts_of_an_empty_challenge_read_back_unchanged(challenge):
    make_edition(challenge=challenge, year=2025)
    for chart in built_charts(challenge):
        assert plain(chart.figure) == through_plotly(chart.figure), chart.element_id


def test_the_figure_merges_updates_as_plotly_does():
    ours, theirs = (
        Figure([scatter(x=[1, 2], y=[3, None], mode="markers"), bar(x=["a"], y=[1])]),
        go.Figure(data=[go.Scatter(x=[1, 2], y=[3, None], mode="markers"), go.Bar(x=["a"], y=[1])]),
    )
    for fig in (ours, theirs):
        fig.update_layout(height=300, legend={"x": 0, "y": 1}, margin={"l": 1, "t": 2})
        fig.update_layout(legend={"y": -0.2, "yanchor": "top"}, margin={"t": 9})
        fig.update_xaxes(type="log", title={"text": "x"})
        fig.update_xaxes(range=[0, 1], title={"font": {"size": 3}})
        fig.update_yaxes(ticksuffix="%")
    assert json.loads(json.dumps(ours.to_plotly_json())) == json.loads(theirs.to_json())
    assert ours.to_plotly_json()["layout"]["template"] is plotly_template()
