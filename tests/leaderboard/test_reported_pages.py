"""Reported results belong to their data set: the demo's Fashion-MNIST benchmark (an older
demo's ILSVRC rows taken away), the ILSVRC series on its own page with a monotone record, and
every chart's table alternative holding the values it plots."""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from leaderboard import services
from leaderboard.models import Challenge, ReferenceResult
from leaderboard.services.references import (
    FASHION_MNIST_REPORTED_CSV,
    ILSVRC_HISTORY_CSV,
    ReferenceCSVError,
)

from .chart_tables import aria_label, chart_table, figure, pct
from .factories import make_edition, make_scored, make_team
from .test_robustness_pages import stored_record

pytestmark = pytest.mark.django_db

PUBLISHED = Path("/work/shared/reference/published_baselines.md")
# The benchmark table published with Fashion-MNIST (zalandoresearch/fashion-mnist README):
# accuracy per model; the file stores top-1 error = 1 - accuracy.
ACCURACY = {
    "MLP 256-128-64": 0.900,
    "2-conv net, <100k params": 0.925,
    "VGG16": 0.935,
    "ResNet18": 0.949,
    "WRN40-4": 0.967,
    "Humans (non-experts)": 0.835,
}
ILSVRC_TEAMS = {"NEC-UIUC", "XRCE", "SuperVision", "Clarifai", "GoogLeNet", "MSRA", "WMW"}


def write_idx(folder: Path, split: str, n: int, rng: np.random.Generator) -> None:
    """A tiny Fashion-MNIST look-alike in IDX format (gzipped), as the real one is laid out."""
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    with gzip.open(folder / f"{split}-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">IIII", 0x803, n, 28, 28) + images.tobytes())
    with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">II", 0x801, n) + labels.tobytes())


@pytest.fixture
def fashion(tmp_path: Path) -> Path:
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_idx(folder, "t10k", 40, rng)
    write_idx(folder, "train", 40, rng)
    return folder


def demo(source: Path, capsys) -> str:
    capsys.readouterr()
    call_command("create_demo", f"--source={source}", "--no-robustness")
    return capsys.readouterr().out


def test_the_shipped_fashion_mnist_file_is_the_published_table_top1_only_with_sources():
    rows = services.references.reference_rows_parse(text=FASHION_MNIST_REPORTED_CSV.read_text())
    assert {r.team: round(1 - r.top1_error, 4) for r in rows} == ACCURACY
    assert all(r.top5_error is None for r in rows)  # the table gives accuracy (top-1) only
    assert all(r.year == 2017 and "published with the data set, 2017" in r.note for r in rows)
    assert all("zalandoresearch/fashion-mnist" in r.source for r in rows)
    if PUBLISHED.exists():  # the project's reference notes: the same error for each model
        text = PUBLISHED.read_text()
        section = text[text.index("## Fashion-MNIST") : text.index("## MNIST")]
        errors = sorted(float(e) for e in re.findall(r"\| ([\d.]+)% \|", section))
        assert errors == sorted(round(100 * r.top1_error, 1) for r in rows)


def test_a_top1_only_file_imports_and_a_bad_error_names_the_line(challenge):
    text = "year,team,top1_error_pct,source\n2017,A,7.5,table\n2017,B,x,table\n"
    with pytest.raises(ReferenceCSVError, match=r"line 3: top1_error_pct 'x' is not a number"):
        services.reference_results_import(challenge=challenge, text=text)
    assert not ReferenceResult.objects.exists()  # nothing half-written
    outcome = services.reference_results_import(challenge=challenge, text=text.rsplit("2017,B")[0])
    row = ReferenceResult.objects.get()
    assert (outcome.created, row.top1_error, row.top5_error) == (1, 0.075, None)


def test_an_older_demo_with_ilsvrc_rows_gets_the_fashion_mnist_benchmark(fashion, capsys, client):
    """An install whose demo challenge was given the ILSVRC series: the next start (make run
    runs create_demo each time) replaces it with Fashion-MNIST's published table."""
    challenge = Challenge.objects.create(slug="demo", title="Fashion-MNIST")
    services.reference_results_import_ilsvrc(challenge=challenge)  # what the old demo did
    assert ReferenceResult.objects.filter(challenge=challenge).count() == 8

    out = demo(fashion, capsys)

    assert "reported results on Fashion-MNIST: 6 added, 0 kept, 8 removed" in out
    rows = ReferenceResult.objects.filter(challenge=challenge)
    assert {r.team for r in rows} == set(ACCURACY) and not {r.team for r in rows} & ILSVRC_TEAMS
    assert "0 added, 6 kept, 0 removed" in demo(fashion, capsys)  # a restart changes nothing

    body = client.get(challenge.get_absolute_url()).content.decode()
    fig = figure(body, "chart-history")
    (name,) = [t["name"] for t in fig["data"] if t["name"].startswith("Reported")]
    assert name == "Reported on Fashion-MNIST (published, not scored here)"
    reported = next(t for t in fig["data"] if t["name"] == name)
    expected = sorted(round(100 * (1 - a), 1) for a in ACCURACY.values())
    assert sorted(reported["y"]) == pytest.approx(expected) and set(reported["x"]) == {2017}
    switched = [b["args"][0]["y"] for b in fig["layout"]["updatemenus"][0]["buttons"]]
    plotted = [y for ys in switched for trace in ys for y in trace if y is not None]
    ilsvrc = [100 * r.top5_error for r in services.ilsvrc_history_rows()]
    assert not any(abs(y - v) < 1e-6 for y in plotted for v in ilsvrc)  # no ImageNet value
    assert "SuperVision" not in body and "16.42%" not in body
    table = chart_table(body, "chart-history")
    shown = [r for r in table if r["Series"].startswith("Reported on Fashion-MNIST")]
    assert {r["Entry"].split(" · ")[0] for r in shown} == set(ACCURACY)
    assert all("zalandoresearch/fashion-mnist" in r["Source"] for r in shown)
    assert "Reported on Fashion-MNIST" in body and "https://github.com/zalandoresearch" in body
    assert f'href="{reverse("imagenet_reported")}"' in body  # how the field went on ImageNet


def test_the_digits_demo_reports_nothing_and_loses_the_ilsvrc_rows(tmp_path, capsys):
    challenge = Challenge.objects.create(slug="demo", title="Digits")
    services.reference_results_import_ilsvrc(challenge=challenge)
    out = demo(tmp_path / "no-fashion", capsys)
    assert "reported results on Digits: 0 added, 0 kept, 8 removed" in out
    assert not ReferenceResult.objects.exists()


def test_the_imagenet_page_shows_the_series_with_a_monotone_record(client):
    rows = services.ilsvrc_history_rows()
    home = client.get(reverse("challenge_list")).content.decode()
    url = reverse("imagenet_reported")
    assert url == "/history/imagenet/" and f'href="{url}"' in home

    body = client.get(url).content.decode()

    assert "<h1>ImageNet (ILSVRC), reported</h1>" in body
    for row in rows:  # every row of the shipped file, with its source
        assert row.team in body and pct(100 * row.top5_error) in body
    assert "https://image-net.org/challenges/LSVRC/2012/results.html" in body
    fall = body[body.index('id="largest-fall"') :].split("</p>")[0]
    assert "2012" in fall and "SuperVision" in fall and "25.77%" in fall and "16.42%" in fall
    assert "runner-up ISI 26.17" in fall  # the next entry, from the row's note

    fig = figure(body, "chart-imagenet")
    points = next(t for t in fig["data"] if t["name"] == "Top-5 error, reported")
    record = next(t for t in fig["data"] if t["name"].startswith("Record, top-5"))
    assert record["line"]["shape"] == "hv"
    assert all(a >= b for a, b in itertools.pairwise(record["y"]))  # never rises
    by_year = {}
    for row in rows:  # an independent running minimum of the file's top-5 errors
        by_year[row.year] = min(by_year.get(row.year, 1.0), row.top5_error)
    running = list(itertools.accumulate((by_year[y] for y in sorted(by_year)), min))
    assert record["y"][:-1] == pytest.approx([100 * v for v in running])
    assert record["x"][:-1] == [y - 0.5 for y in sorted(by_year)]
    assert sorted(points["y"]) == pytest.approx(sorted(100 * r.top5_error for r in rows))

    table = chart_table(body, "chart-imagenet")
    assert [(r["Year"], r["Team"]) for r in table] == [
        (str(x), team)
        for x, team in zip(points["x"], [c[0] for c in points["customdata"]], strict=True)
    ]
    assert [r["Top-5 error, reported"] for r in table] == [pct(y) for y in points["y"]]
    assert [r["Record, top-5 error"] for r in table] == [
        pct(100 * running[sorted(by_year).index(int(r["Year"]))]) for r in table
    ]
    assert "2010 to 2017" in aria_label(body, "chart-imagenet")
    assert ILSVRC_HISTORY_CSV.name in body


def seed(challenge) -> None:
    """Two editions with teams, two baselines at their papers' years, reported results."""
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
                    created_at=edition.opens_at + dt.timedelta(hours=i + j + 24 * j),
                    record={
                        "params": 1000 * (i + 1),
                        "params_source": "file",
                        "throughput_img_s": 500.0 / (j + 1),
                        "throughput_source": "parent",
                    },
                )
    for method, year, top5 in (("AlexNet", 2012, 0.1), ("ResNet-18", 2015, 0.05)):
        make_scored(
            edition=edition,
            team=None,
            baseline=True,
            top1=0.3,
            top5=top5,
            method=method,
            method_year=year,
            record={"params": 61_000_000, "throughput_img_s": 900.0},
        )
    services.reference_results_set(challenge=challenge, path=FASHION_MNIST_REPORTED_CSV)


def test_the_history_charts_table_holds_the_plotted_values(client, challenge):
    seed(challenge)
    body = client.get(challenge.get_absolute_url()).content.decode()
    fig = figure(body, "chart-history")
    traces = {t["name"]: t for t in fig["data"]}
    table = chart_table(body, "chart-history")
    metric = "Top-5 error"  # the ranking metric: the figure is drawn in it
    assert fig["layout"]["yaxis"]["title"]["text"] == f"{metric} (%)"

    def series(prefix: str) -> list[tuple[int, str]]:
        return [(int(r["Year"]), r[metric]) for r in table if r["Series"].startswith(prefix)]

    bests = traces["Best of each year"]
    assert series("Best of the year") == [
        (x, pct(y)) for x, y in zip(bests["x"], bests["y"], strict=True)
    ]
    record = traces["Best so far"]
    steps = [
        (round(x + 0.5), pct(y)) for x, y in zip(record["x"][:-1], record["y"][:-1], strict=True)
    ]
    assert series("Best so far") == steps
    base = traces["Baselines (trained by us)"]
    assert series("Baseline") == [(x, pct(y)) for x, y in zip(base["x"], base["y"], strict=True)]
    reported = next(t for n, t in traces.items() if n.startswith("Reported on"))
    assert sorted(series("Reported on")) == sorted(
        (x, pct(y)) for x, y in zip(reported["x"], reported["y"], strict=True)
    )
    cloud = traces["Submissions"]
    for year in (2024, 2025):
        ys = [y for x, y in zip(cloud["x"], cloud["y"], strict=True) if round(x) == year]
        (row,) = [r for r in table if r["Series"] == "Submissions" and r["Year"] == str(year)]
        assert row["Entry"] == f"{len(ys)} scored"
        assert row[metric] == f"{pct(min(ys))} to {pct(max(ys))}"
    # The other metric the buttons switch to is in the table too.
    top1 = next(
        b for b in fig["layout"]["updatemenus"][0]["buttons"] if b["label"] == "Top-1 error"
    )
    top1_bests = top1["args"][0]["y"][2]
    assert [r["Top-1 error"] for r in table if r["Series"] == "Best of the year"] == [
        pct(y) for y in top1_bests
    ]
    summary = aria_label(body, "chart-history")
    assert "2012 to 2025" in summary and "6 results reported on Fashion" in summary


def test_the_edition_charts_tables_hold_the_plotted_values(client, challenge):
    seed(challenge)
    edition = challenge.editions.get(year=2025)
    body = client.get(reverse("edition_charts", args=[challenge.slug, edition.slug])).content
    body = body.decode()

    progress = {t["name"]: t for t in figure(body, "chart-progress")["data"]}
    table = chart_table(body, "chart-progress")
    assert [r["Day"] for r in table] == progress["Best so far"]["x"]
    assert [r["Best so far"] for r in table] == [pct(y) for y in progress["Best so far"]["y"]]
    assert [r["Best of the day"] for r in table] == [
        pct(y) for y in progress["Best of the day"]["y"]
    ]

    activity = {t["name"]: t for t in figure(body, "chart-activity")["data"]}
    table = chart_table(body, "chart-activity")
    assert [int(r["Scored"]) for r in table] == activity["Scored"]["y"]
    other = activity["Not scored (queued, failed, hidden)"]["y"]
    assert [int(r["Not scored"]) for r in table] == other
    assert sum(int(r["All"]) for r in table) == 6

    # Parameters: three teams' best entries and two baselines; throughput: the teams only (the
    # baselines' rates were not timed by the worker, so they are not plotted).
    for element_id, column, n in (
        ("chart-params", "Parameters", 5),
        ("chart-throughput", "Throughput (images/s)", 3),
    ):
        fig = {t["name"]: t for t in figure(body, element_id)["data"]}
        table = chart_table(body, element_id)
        plotted = {
            (c[-1], x, y)
            for name in ("Teams (best entry)", "Baselines (trained by us)")
            for c, x, y in zip(fig[name]["customdata"], fig[name]["x"], fig[name]["y"], strict=True)
        }
        assert len(table) == len(plotted) == n
        shown = sorted((float(r[column].replace(",", "")), r["Top-1 accuracy"]) for r in table)
        assert shown == sorted((float(f"{x:,.0f}".replace(",", "")), pct(y)) for _, x, y in plotted)
        front = fig["Pareto front"]
        on_front = sorted(zip(front["x"], [pct(y) for y in front["y"]], strict=True))
        assert (
            sorted(
                (float(r[column].replace(",", "")), r["Top-1 accuracy"])
                for r in table
                if r["On the Pareto front"] == "yes"
            )
            == on_front
        )


def test_the_robustness_charts_table_holds_the_plotted_values(client, challenge):
    edition = make_edition(challenge=challenge)
    baseline = make_scored(
        edition=edition, team=None, baseline=True, top1=0.2, top5=0.1, record=stored_record()
    )
    body = client.get(reverse("submission_detail", args=[baseline.pk])).content.decode()
    fig = figure(body, "chart-robustness")
    bars = next(t for t in fig["data"] if t["name"] == "Error")
    table = chart_table(body, "chart-robustness")
    assert [r["Transform"] for r in table[:-1]] == bars["x"]
    assert [r["Top-1 error"] for r in table[:-1]] == [pct(y) for y in bars["y"]]
    hovered = [c[1].strip(" ()").removesuffix(" vs clean") for c in bars["customdata"]]
    assert [r["Top-1 vs clean"] for r in table[:-1]] == hovered == ["", "+200%", "+50%"]
    top5 = fig["layout"]["updatemenus"][0]["buttons"][1]["args"][0]["y"]
    assert [r["Top-5 error"] for r in table[:-1]] == [pct(y) for y in top5[0]]
    mean = next(t for t in fig["data"] if t["name"].startswith("Mean over"))
    assert table[-1]["Transform"] == "Mean over the corruptions"
    assert table[-1]["Top-1 error"] == pct(mean["y"][0])
    assert "clean 20.00%" in aria_label(body, "chart-robustness")


def test_the_record_holds_through_a_worse_year_and_takes_each_years_best():
    from leaderboard.charts import largest_fall, record_steps
    from leaderboard.services.references import ReferenceRow

    def row(year: int, team: str, top5: float | None, top1: float | None = None) -> ReferenceRow:
        return ReferenceRow(year, team, "", top5, top1, "", "s")

    rows = [
        row(2010, "a", 0.30),
        row(2011, "b", 0.20),
        row(2011, "c", 0.25),
        row(2012, "d", 0.28),  # worse than the record: it holds
        row(2013, "e", None, 0.4),  # no top-5: not a step of that record
        row(2014, "f", 0.05),
    ]
    steps = record_steps(rows, field="top5_error")
    assert [(s.year, s.value, s.holder.team) for s in steps] == [
        (2010, 0.30, "a"),
        (2011, 0.20, "b"),
        (2012, 0.20, "b"),
        (2014, 0.05, "f"),
    ]
    fall = largest_fall(steps)
    assert (fall.year, fall.previous, fall.value) == (2014, 0.20, 0.05)
    assert largest_fall(record_steps(rows[:1], field="top5_error")) is None
