"""The challenge page's baselines table and the history chart's baseline markers: every network
of the catalogue at its paper's year, the measured ones with their clean and robust error,
parameters and the images per second their scoring run measured; the others saying why they
have none (not trained here, with the measured cost of an epoch); and whether deeper did
better, in words, with the numbers. Rows in the real PostgreSQL test database."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from baselines import catalogue, shipped
from baselines.epoch_time import recorded
from leaderboard.metrics import percent
from leaderboard.models import Score, Submission

from .factories import make_challenge, make_edition, make_scored
from .test_history_pages import figure, measured, traces

pytestmark = pytest.mark.django_db

# (network, public top-1, private top-1, robust error on both parts, parameters, images/s)
# Clean error falls with depth; the robust error does not (as the demo measured it).
MEASURED = (
    ("baseline-mlp", 0.1210, 0.1190, 0.3961, 23_860, 28_814.4),
    ("baseline-lenet5", 0.0990, 0.0976, 0.4430, 61_706, 18_891.2),
    ("baseline-alexnet-small", 0.0840, 0.0826, 0.4295, 478_047, 4_905.0),
)


@pytest.fixture
def demo():
    """The demo's hidden set (the shipped records' fingerprint), an open edition with three
    baselines scored, ResNet-20 waiting for the worker, and one the host switched off."""
    fingerprint = shipped.available()[0].record["test"]["data_fingerprint"]
    challenge = make_challenge(
        slug="demo", title="Fashion-MNIST", dataset_fingerprint=fingerprint, primary_metric="top1"
    )
    edition = make_edition(challenge=challenge, year=2026)
    for arch, public, private, robust, params, speed in MEASURED:
        network = catalogue.get(arch)
        entry = make_scored(
            edition=edition,
            team=None,
            top1=public,
            top5=public / 40,
            private=(private, private / 40),
            baseline=True,
            method=network.method_name,
            method_year=network.year,
            arch=arch,
            original_name=f"{arch}-k.safetensors",
            record=measured(params=params, throughput=speed),
        )
        Score.objects.filter(submission=entry).update(
            robust_error=robust, public_robust_error=robust, private_robust_error=robust
        )
    resnet = catalogue.get("resnet20")
    Submission.objects.create(
        edition=edition,
        is_baseline=True,
        method_name=resnet.method_name,
        method_year=resnet.year,
        arch=resnet.arch,
        original_name=f"{resnet.arch}-k.safetensors",
        file="submissions/x",
    )
    make_scored(  # switched off by the host: off this page as off the boards
        edition=edition,
        team=None,
        top1=0.01,
        top5=0.0,
        baseline=True,
        method="Switched off",
        method_year=2016,
        hidden_by_host=True,
    )
    return challenge


def rows_by_network(body: str) -> dict[str, str]:
    table = body[body.index('<section class="zoo" id="baselines"') :]
    table = table[: table.index("</section>")]
    return dict(re.findall(r'<tr data-network="([^"]+)"[^>]*>(.*?)</tr>', table, re.S))


def test_every_catalogued_network_has_one_row_at_its_papers_year(client, demo) -> None:
    body = client.get(demo.get_absolute_url()).content.decode()
    rows = rows_by_network(body)
    assert set(rows) == {b.arch for b in catalogue.CATALOGUE}
    assert "Switched off" not in body[body.index('id="baselines"') :]
    order = list(rows)
    years = [catalogue.get(arch).year for arch in order]
    assert years == sorted(years)
    for arch, row in rows.items():
        network = catalogue.get(arch)
        assert f"<td>{network.year}</td>" in row and escape(network.method_name) in row
        assert f'<td class="num">{network.depth}</td>' in row


def test_measured_rows_show_the_edition_parts_errors_size_and_scored_speed(client, demo) -> None:
    rows = rows_by_network(client.get(demo.get_absolute_url()).content.decode())
    for arch, public, private, robust, params, speed in MEASURED:
        row = rows[arch]
        assert f"<b>{percent(public, 2)}</b>" in row  # the open edition's public part
        assert percent(private, 2) not in row
        assert f'<td class="num">{percent(robust, 2)}</td>' in row
        assert f'<td class="num">{params:,}</td>' in row
        assert f'<td class="num">{speed:,.0f}</td>' in row
    assert "being scored" in rows["baseline-resnet20"]


def test_networks_without_weights_say_so_with_the_measured_epoch_time(client, demo) -> None:
    rows = rows_by_network(client.get(demo.get_absolute_url()).content.decode())
    entered = {arch for arch, *_ in MEASURED} | {"baseline-resnet20"}
    missing = [b for b in catalogue.CATALOGUE if b.arch not in entered]
    assert missing
    for network in missing:
        row = rows[network.arch]
        if shipped.get(network.arch):
            assert "not entered on this edition" in row
            continue
        assert "not trained here" in row
        measured_row = recorded(network.arch)
        if measured_row is None:
            assert f"the recipe&#x27;s {network.recipe.epochs} epochs were not run" in row
            continue
        minutes = measured_row["estimated_cpu_seconds_per_epoch"] / 60
        assert f"about {minutes:,.0f} min of a CPU core" in row
        assert f"estimated from {measured_row['timed_steps']} timed steps" in row
        hours = measured_row["estimated_cpu_hours_for_recipe"]
        assert f"{network.recipe.epochs} epochs about {hours:g} h" in row


def test_the_page_says_plainly_whether_deeper_did_better(client, demo) -> None:
    body = client.get(demo.get_absolute_url()).content.decode()
    clean = re.search(r'<li data-trend="clean">(.*?)</li>', body, re.S).group(1)
    robust = re.search(r'<li data-trend="robust">(.*?)</li>', body, re.S).group(1)
    assert clean.startswith("Clean top-1 error: each deeper network did better here")
    assert "LeNet-5 (5 layers) 9.90%" in clean
    assert robust.startswith("Robust error (mean top-1 error under corruption): deeper was not")
    assert "LeNet-5 (5 layers) 44.30% against MLP 784-30-10, sigmoid (Nielsen) (2 layers)" in (
        robust.replace("&#x27;", "'")
    )


def test_the_history_chart_marks_each_baseline_with_its_size_and_scored_speed(client, demo) -> None:
    body = client.get(demo.get_absolute_url()).content.decode()
    diamonds = traces(figure(body, "chart-history"))["Baselines (trained by us)"]
    about = {c[0]: c[2] for c in diamonds["customdata"]}
    for arch, _public, _private, _robust, params, speed in MEASURED:
        network = catalogue.get(arch)
        assert about[network.method_name] == (
            f"{network.depth} layers · {params:,} parameters · {speed:,.0f} images/s scored here"
        )
    assert "%{customdata[2]}" in diamonds["hovertemplate"]
    # At the axis ends the labels lean inwards: the chart's edge cuts none off.
    sides = dict(zip(diamonds["x"], diamonds["textposition"], strict=True))
    assert sides[min(sides)] == "top right" and sides[max(sides)] == "top left"


def test_a_closed_edition_shows_its_private_part(client, demo) -> None:
    edition = demo.editions.get()
    edition.opens_at = edition.opens_at.replace(year=edition.year - 1)
    edition.closes_at = edition.opens_at.replace(month=12, day=31)
    edition.save()
    rows = rows_by_network(client.get(demo.get_absolute_url()).content.decode())
    for arch, public, private, *_ in MEASURED:
        assert f"<b>{percent(private, 2)}</b>" in rows[arch]
        assert f"<b>{percent(public, 2)}</b>" not in rows[arch]


def test_no_baselines_no_table(client, db) -> None:
    challenge = make_challenge(slug="empty")
    make_edition(challenge=challenge)
    body = client.get(challenge.get_absolute_url()).content.decode()
    assert 'id="baselines"' not in body
