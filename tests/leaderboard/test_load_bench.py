"""The load benchmark end to end: a tiny seeded edition served by a real gunicorn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from leaderboard.bench.load import parse_users
from leaderboard.models import Challenge

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "home",
    "challenge",
    "leaderboard",
    "charts",
    "robustness",
    "submission",
    "api_leaderboard",
}


def database_url() -> str:
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_page_answers_under_two_users(tmp_path: Path) -> None:
    figures = tmp_path / "load.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "leaderboard.bench.load",
            "--database-url",
            database_url(),
            "--submissions",
            "200",
            "--teams",
            "20",
            "--users",
            "2",
            "--duration",
            "3",
            "--workers",
            "1",
            "--slug",
            "load-test",
            "--json",
            str(figures),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(figures.read_text())
    # The one-user run is always made, for the ratios, then the levels asked for.
    assert [level["users"] for level in result["levels"]] == [1, 2]
    assert set(result["urls"]) == PAGES
    for level in result["levels"]:
        pages = level["pages"]
        assert set(pages) == PAGES
        assert level["errors"] == 0, level["first_errors"]
        assert level["requests"] == sum(p["requests"] for p in pages.values())
        assert level["requests_per_s"] == pytest.approx(level["requests"] / level["duration_s"])
        for name, page in pages.items():
            assert page["requests"] >= 1, name
            assert page["p50_ms"] <= page["p95_ms"] <= page["p99_ms"], name
        # Users cycle through the pages in order: no page falls more than one turn behind.
        counts = [p["requests"] for p in pages.values()]
        assert max(counts) - min(counts) <= level["users"]
    assert "2 users" in run.stdout and "p95 vs 1 user" in run.stdout
    # The seeded rows are gone.
    assert not Challenge.objects.filter(slug="load-test").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_locust_drives_the_same_pages(tmp_path: Path) -> None:
    figures = tmp_path / "locust.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "leaderboard.bench.load",
            "--database-url",
            database_url(),
            "--submissions",
            "200",
            "--teams",
            "20",
            "--users",
            "3",
            "--duration",
            "4",
            "--workers",
            "1",
            "--slug",
            "locust-test",
            "--locust",
            "--json",
            str(figures),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (level,) = json.loads(figures.read_text())["locust"]
    pages = {page["name"]: page for page in level["pages"]}
    assert set(pages) == PAGES | {"Aggregated"}
    assert level["users"] == 3 and level["first_error"] == ""
    total = pages.pop("Aggregated")
    assert total["failures"] == 0
    assert total["requests"] == sum(page["requests"] for page in pages.values())
    for name, page in pages.items():
        assert page["requests"] >= 1, name
        assert page["p50_ms"] <= page["p95_ms"] <= page["p99_ms"], name
    assert "3 users (Locust)" in run.stdout
    assert not Challenge.objects.filter(slug="locust-test").exists()


def test_users_must_be_positive_numbers() -> None:
    assert parse_users("1, 10,50") == [1, 10, 50]
    for bad in ("", "0,5", "ten"):
        with pytest.raises(Exception, match="--users"):
            parse_users(bad)
