"""Charts plot only what the platform measured; the submission page says who measured what.

A model's process runs the participant's code, so a record's figure that came from the model
(``params_source: "model"``, or a record from before the sources were written) is a claim: it
is left off the efficiency charts and their Pareto fronts, and labelled on the page.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboard import charts, selectors
from leaderboard.selectors.records import (
    COUNTED,
    NAMED,
    NO_GROUP,
    REPORTED,
    TIMED,
    record_rows,
)

from .factories import make_scored, make_team

pytestmark = pytest.mark.django_db

HONEST = {
    "params": 50_000,
    "params_source": "file",
    "throughput_img_s": 800.0,
    "throughput_source": "parent",
    "reported_throughput_img_s": 2000.0,
}
# What a hostile model could make its process report, had the parent not measured it.
SPOOFED = {
    "params": 1,
    "params_source": "model",
    "throughput_img_s": 1e12,
    "reported_throughput_img_s": 1e12,
}


def two_teams(edition) -> dict[str, str]:
    """An honest entry and a spoofed, more accurate one: the spoof would top both fronts."""
    honest = make_scored(
        edition=edition, team=make_team(edition=edition, name="honest"), top1=0.2, top5=0.1,
        record=HONEST,
    )  # fmt: skip
    spoofed = make_scored(
        edition=edition, team=make_team(edition=edition, name="spoof"), top1=0.1, top5=0.05,
        record=SPOOFED,
    )  # fmt: skip
    return {"honest": str(honest.pk), "spoofed": str(spoofed.pk)}


def test_a_claimed_size_and_speed_are_left_off_the_points(edition) -> None:
    ids = two_teams(edition)
    points = {p.submission_id: p for p in selectors.edition_efficiency(edition=edition)}
    assert (points[ids["honest"]].params, points[ids["honest"]].throughput) == (50_000, 800.0)
    assert (points[ids["spoofed"]].params, points[ids["spoofed"]].throughput) == (None, None)
    assert points[ids["spoofed"]].accuracy == pytest.approx(0.9)  # still a point, unplotted


@pytest.mark.parametrize("x_field", ["params", "throughput"])
def test_the_charts_and_their_fronts_leave_the_spoof_off(edition, x_field: str) -> None:
    ids = two_teams(edition)
    points = selectors.edition_efficiency(edition=edition)
    chart = charts.efficiency_chart(edition=edition, points=points, x_field=x_field, phase="public")
    teams, _baselines, front = chart.figure["data"]
    plotted = [row[2] for row in teams["customdata"]]
    assert plotted == [ids["honest"]]
    assert teams["x"] == [50_000 if x_field == "params" else 800.0]
    assert [row[0] for row in front["customdata"]] == [ids["honest"]]
    assert "1 left off" in chart.subtitle and "own claim is not plotted" in chart.subtitle


def test_records_from_before_the_sources(edition) -> None:
    """A participant's older figures were its model's claims: left off. A baseline's older
    count came from the platform's own network: kept; its older rate was the model's timing of
    its own loop, not the worker's clock: left off."""
    old = {"params": 1234, "throughput_img_s": 99.0}
    team = make_scored(
        edition=edition, team=make_team(edition=edition, name="t"), top1=0.3, top5=0.1, record=old
    )
    baseline = make_scored(
        edition=edition, team=None, baseline=True, top1=0.3, top5=0.1, method="LeNet", record=old
    )
    points = {p.submission_id: p for p in selectors.edition_efficiency(edition=edition)}
    assert (points[str(team.pk)].params, points[str(team.pk)].throughput) == (None, None)
    assert (points[str(baseline.pk)].params, points[str(baseline.pk)].throughput) == (1234, None)


def test_the_charts_page_draws_the_honest_entry_only(client, edition) -> None:
    ids = two_teams(edition)
    body = client.get(reverse("edition_charts", args=[edition.challenge.slug, edition.slug]))
    html = body.content.decode()
    assert ids["honest"] in html and ids["spoofed"] not in html
    assert "1e+12" not in html and "1000000000000" not in html


def test_record_rows_say_who_measured_each_figure() -> None:
    rows = {row.key: row for row in record_rows(record={**HONEST, "wall_seconds": 3.0})}
    assert rows["params"].source == COUNTED
    assert rows["throughput_img_s"].source == TIMED
    assert rows["wall_seconds"].source == TIMED
    assert rows["reported_throughput_img_s"].source == REPORTED
    assert "params_source" not in rows  # said beside the figure instead
    spoofed = {row.key: row for row in record_rows(record=SPOOFED)}
    assert spoofed["params"].source == REPORTED
    assert spoofed["throughput_img_s"].source == REPORTED  # no source: the model's own timing
    legacy = {row.key: row for row in record_rows(record={"params": 9, "format": "safetensors"})}
    assert legacy["params"].source == COUNTED  # safetensors headers were always counted
    current = {
        row.key: row
        for row in record_rows(
            record={"record_version": 2, "device": "AMD EPYC", "cgroup": "none: read-only"}
        )
    }
    assert current["device"].source == NAMED
    assert current["cgroup"].source == NO_GROUP
    old = {row.key: row for row in record_rows(record={"device": "a B200", "cgroup": "v1"})}
    assert old["device"].source == "" and old["cgroup"].source == ""


def test_record_rows_are_formatted_and_leave_out_what_does_not_apply() -> None:
    record = {
        **HONEST,
        "arch": None,  # a format without an architecture name
        "batch_size": None,
        "throughput_img_s": 14136.439702491989,
        "wall_seconds": 20.212533025000084,
        "inference_seconds": 0.0213,
        "params": 61_100_840,
        "device": "cpu",
    }
    rows = {row.key: row.value for row in record_rows(record=record)}
    assert "arch" not in rows and "batch_size" not in rows
    assert rows["throughput_img_s"] == "14,136 images/s"
    assert rows["reported_throughput_img_s"] == "2,000 images/s"
    assert rows["wall_seconds"] == "20.2 s" and rows["inference_seconds"] == "0.0213 s"
    assert rows["params"] == "61,100,840" and rows["device"] == "cpu"


def test_submission_page_shows_the_formatted_record(client, user, edition) -> None:
    team = make_team(edition=edition, name="alice", users=[user])
    record = {**HONEST, "arch": None, "throughput_img_s": 14136.4397, "wall_seconds": 20.2125}
    submission = make_scored(edition=edition, team=team, top1=0.1, top5=0.05, record=record)
    client.force_login(user)
    html = client.get(submission.get_absolute_url()).content.decode()
    record_table = html[html.index("Reproducibility record") :]
    assert "<th>arch</th>" not in record_table and "None" not in record_table
    assert "<code>14,136 images/s</code>" in record_table
    assert "<code>20.2 s</code>" in record_table and "20.2125" not in record_table


def test_submission_page_labels_a_model_reported_figure(client, user, edition) -> None:
    team = make_team(edition=edition, name="alice", users=[user])
    submission = make_scored(edition=edition, team=team, top1=0.1, top5=0.05, record=SPOOFED)
    client.force_login(user)
    html = client.get(submission.get_absolute_url()).content.decode()
    params_row = html[html.index("<th>params</th>") :].split("</tr>")[0]
    assert "reported by the model" in params_row
    rate_row = html[html.index("<th>reported_throughput_img_s</th>") :].split("</tr>")[0]
    assert "reported by the model" in rate_row

    submission.score.record = HONEST
    submission.score.save()
    html = client.get(submission.get_absolute_url()).content.decode()
    params_row = html[html.index("<th>params</th>") :].split("</tr>")[0]
    assert "reported by the model" not in params_row and "counted from the model file" in params_row
    rate_row = html[html.index("<th>throughput_img_s</th>") :].split("</tr>")[0]
    assert "timed by the platform" in rate_row
