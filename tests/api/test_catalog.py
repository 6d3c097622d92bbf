"""Challenges, editions and the year-by-year history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leaderboard import selectors
from leaderboard.api.history import challenge_history
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
    make_scored(edition=old, team=None, top1=0.5, top5=0.25, baseline=True, method="AlexNet")
    n = [make_team(edition=new, name=f"new{i}", users=[users[i]]) for i in range(2)]
    now = timezone.now()
    make_scored(edition=new, team=n[0], top1=0.2, top5=0.04, created_at=now, method="x")
    # Same error, submitted earlier: the tie goes to new1.
    early = now - dt.timedelta(hours=1)
    make_scored(edition=new, team=n[1], top1=0.2, top5=0.04, created_at=early, method="y")
    make_scored(edition=new, team=None, top1=0.4, top5=0.2, baseline=True, method="VGG")
    make_scored(edition=new, team=None, top1=0.3, top5=0.1, baseline=True, method="ResNet")
    return challenge, old, new


def test_history_agrees_with_the_leaderboard_selector(api, django_assert_num_queries):
    _, old, new = history_fixture()

    with django_assert_num_queries(2):  # the challenge, then one query for every edition
        body = api.get("/api/challenges/hist/history/").json()

    assert body["metric"] == "top5"
    assert [(e["year"], e["phase"]) for e in body["editions"]] == [
        (2024, "private"),
        (2025, "public"),
        (2026, "public"),
    ]
    for entry, edition in zip(body["editions"][:2], (old, new), strict=True):
        board = selectors.edition_leaderboard(edition=edition)
        teams = [r for r in board.rows if not r.is_baseline]
        baselines = [r for r in board.rows if r.is_baseline]
        assert entry["teams"] == len(teams)
        assert entry["winner"]["team"] == teams[0].team_name
        assert entry["winner"]["top5_error"] == teams[0].metric_value
        assert entry["winner"]["top1_error"] == teams[0].other_value
        assert entry["runner_up"]["team"] == teams[1].team_name
        assert entry["best_baseline"]["method_name"] == baselines[0].method_name
        assert entry["best_baseline"]["team"] is None
    old_entry, new_entry, empty = body["editions"]
    assert (old_entry["winner"]["team"], old_entry["winner"]["method_name"]) == ("old1", "b")
    assert (old_entry["teams"], old_entry["entries"]) == (3, 4)
    assert new_entry["winner"]["team"] == "new1"  # the earlier of two equal entries
    assert new_entry["best_baseline"]["method_name"] == "ResNet"
    assert empty["teams"] == empty["entries"] == 0
    assert empty["winner"] is empty["runner_up"] is empty["best_baseline"] is None


def test_history_ranks_by_top1_when_that_is_the_metric(db):
    challenge = make_challenge(slug="t1", title="Top-1", primary_metric="top1")
    edition = make_edition(challenge=challenge)
    a, b = (make_team(edition=edition, name=n, users=[make_user(n)]) for n in ("a", "b"))
    make_scored(edition=edition, team=a, top1=0.30, top5=0.01)
    make_scored(edition=edition, team=b, top1=0.20, top5=0.10)
    (row,) = challenge_history(slug="t1").editions
    assert row["winner"]["team"] == "b" and row["winner"]["top1_error"] == 0.20
