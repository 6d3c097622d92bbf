"""Challenges, editions and the year-by-year history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leaderboard import selectors
from leaderboard.models import ReferenceResult, Submission
from tests.leaderboard.factories import (
    make_challenge,
    make_edition,
    make_scored,
    make_team,
    make_user,
)

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_challenge_list_with_editions_in_constant_queries(
    api, challenge, django_assert_max_num_queries
):
    for year in (2023, 2024, 2025):
        make_edition(challenge=challenge, year=year, open_now=year == 2025)
    other = make_challenge(slug="cifar", title="CIFAR-10")
    make_edition(challenge=other, year=2025)

    with django_assert_max_num_queries(3):  # count, page, editions
        body = api.get("/api/challenges/").json()

    assert body["count"] == 2
    assert [c["slug"] for c in body["results"]] == ["cifar", "fmnist"]
    fmnist = body["results"][1]
    assert [e["year"] for e in fmnist["editions"]] == [2025, 2024, 2023]
    assert [e["state"] for e in fmnist["editions"]] == ["open", "closed", "closed"]
    assert fmnist["editions"][0]["leaderboard"].endswith(
        "/api/challenges/fmnist/editions/2025/leaderboard/"
    )


def test_challenge_list_is_paginated(api):
    for i in range(3):
        make_challenge(slug=f"c{i}", title=f"C{i}")
    first = api.get("/api/challenges/?page_size=2").json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert [c["slug"] for c in second["results"]] == ["c2"]


def test_challenge_and_edition_detail(api, edition):
    challenge = api.get("/api/challenges/fmnist/").json()
    assert challenge["title"] == "Fashion" and challenge["num_classes"] == 4
    body = api.get("/api/challenges/fmnist/editions/2025/").json()
    assert body["name"] == "Fashion 2025"
    assert body["state"] == "open"
    assert (body["daily_limit"], body["total_limit"], body["max_upload_mb"]) == (5, 100, 5)
    assert (body["title"], body["display_name"]) == ("", "Fashion 2025")


def test_a_classroom_edition_is_named_by_its_title(api, edition):
    edition.title = "Deep learning, spring term"
    edition.save(update_fields=["title"])
    body = api.get("/api/challenges/fmnist/").json()["editions"][0]
    assert body["name"] == "Fashion 2025"  # unchanged, for scripts that parse it
    assert body["title"] == body["display_name"] == "Deep learning, spring term"


def test_upcoming_edition_state(api, challenge):
    edition = make_edition(challenge=challenge)
    edition.opens_at = timezone.now() + dt.timedelta(days=1)
    edition.closes_at = timezone.now() + dt.timedelta(days=2)
    edition.save()
    assert api.get("/api/challenges/fmnist/editions/2025/").json()["state"] == "upcoming"


@pytest.mark.parametrize(
    "path",
    [
        "/api/challenges/nope/",
        "/api/challenges/nope/history/",
        "/api/challenges/fmnist/editions/1999/",
        "/api/challenges/fmnist/editions/1999/leaderboard/",
    ],
)
def test_unknown_challenge_or_edition_is_not_found(api, edition, path):
    body = assert_error(api.get(path), 404, "not_found")
    assert path in body["message"]


def history_fixture():
    """2024 (closed: private decides) and 2025 (open: public decides), teams and baselines."""
    challenge = make_challenge(slug="hist", title="History", primary_metric="top5")
    old = make_edition(challenge=challenge, year=2024, open_now=False)
    new = make_edition(challenge=challenge, year=2025)
    make_edition(challenge=challenge, year=2026)  # nothing scored yet
    users = [make_user(f"u{i}") for i in range(4)]
    t = [make_team(edition=old, name=f"old{i}", users=[users[i]]) for i in range(3)]
    # Public favours old0, private favours old1: the closed edition goes to old1.
    make_scored(edition=old, team=t[0], top1=0.3, top5=0.05, private=(0.4, 0.20), method="a")
    make_scored(edition=old, team=t[1], top1=0.3, top5=0.10, private=(0.3, 0.08), method="b")
    make_scored(edition=old, team=t[1], top1=0.3, top5=0.30, private=(0.3, 0.30), method="b2")
    make_scored(edition=old, team=t[2], top1=0.3, top5=0.12, private=(0.3, 0.15), method="c")
    n = [make_team(edition=new, name=f"new{i}", users=[users[i]]) for i in range(2)]
    now = timezone.now()
    make_scored(edition=new, team=n[0], top1=0.2, top5=0.04, created_at=now, method="x")
    # Same error, submitted earlier: the tie goes to new1.
    early = now - dt.timedelta(hours=1)
    make_scored(edition=new, team=n[1], top1=0.2, top5=0.04, created_at=early, method="y")
    for method, year, top5 in (("AlexNet", 2012, 0.25), ("VGG", 2014, 0.2), ("ResNet", 2015, 0.1)):
        baseline = make_scored(
            edition=new, team=None, top1=0.4, top5=top5, baseline=True, method=method
        )
        Submission.objects.filter(pk=baseline.pk).update(method_year=year)
    ReferenceResult.objects.create(
        challenge=challenge, year=2012, team="SuperVision", top5_error=0.164, source="ILSVRC 2012"
    )
    return challenge, old, new


def test_history_is_the_challenge_pages_history(api):
    challenge, _, _ = history_fixture()

    body = api.get("/api/challenges/hist/history/").json()

    assert (body["challenge"], body["metric"]) == ("hist", "top5")
    expected = selectors.challenge_history(challenge=challenge)
    assert [y["year"] for y in body["years"]] == [y.year for y in expected.years]
    assert [y["year"] for y in body["years"]] == [2012, 2014, 2015, 2024, 2025, 2026]
    by_year = {y["year"]: y for y in body["years"]}
    alexnet = by_year[2012]["best_baseline"]
    assert (alexnet["method_name"], alexnet["team"], alexnet["top5_error"]) == (
        "AlexNet",
        None,
        0.25,
    )
    assert by_year[2012]["reported"][0]["team"] == "SuperVision"
    (y2024,) = by_year[2024]["editions"]
    assert (y2024["edition"], y2024["phase"], y2024["teams"], y2024["entries"]) == (
        "2024",
        "private",
        3,
        4,
    )
    assert (y2024["winner"]["team"], y2024["winner"]["top5_error"]) == ("old1", 0.08)
    assert y2024["runner_up"]["team"] == "old2"
    (y2025,) = by_year[2025]["editions"]
    assert y2025["phase"] == "public" and y2025["winner"]["team"] == "new1"  # earlier of a tie
    (y2026,) = by_year[2026]["editions"]
    assert y2026["winner"] is None and y2026["teams"] == 0


def test_history_winners_agree_with_the_leaderboards(api):
    _, old, new = history_fixture()
    body = api.get("/api/challenges/hist/history/").json()
    by_year = {y["year"]: y for y in body["years"]}
    for edition in (old, new):
        teams = [
            r for r in selectors.edition_leaderboard(edition=edition).rows if not r.is_baseline
        ]
        (summary,) = by_year[edition.year]["editions"]
        assert summary["winner"]["team"] == teams[0].team_name
        assert summary["winner"]["top5_error"] == teams[0].metric_value
        assert summary["runner_up"]["team"] == teams[1].team_name
