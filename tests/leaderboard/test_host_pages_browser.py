"""In Chromium: the pages that show a failed re-run and a frozen robustness board, checked with
axe (WCAG A/AA) and photographed. The rows are written by the services a worker calls.
Screenshots go to the test's tmp dir and, when ARTIFACTS_DIR is set, there too."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from leaderboard import services
from leaderboard.models import Challenge, Score
from leaderboard.services import host_control

from .e2e.accessibility import describe, violations
from .factories import make_edition, make_scored, make_team, make_user
from .test_robustness_board import make_robust

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]
CRASH = "The model's process crashed (exit status -11) on the first batch of 32 images."


@pytest.fixture
def browser(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        yield browser
        browser.close()
        connections.close_all()


def page_of(browser, live_server, user=None):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if user is not None:
        client = Client()
        client.force_login(user)
        name = settings.SESSION_COOKIE_NAME
        context.add_cookies(
            [{"name": name, "value": client.cookies[name].value, "url": live_server.url}]
        )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def shoot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if artifacts := os.environ.get("ARTIFACTS_DIR"):
        target = Path(artifacts) / "host-pages"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)


def assert_accessible(page) -> None:
    found = violations(page)
    assert not found, describe(found, url=page.url)


def test_a_failed_rerun_on_the_submission_page_and_the_host_page(
    browser, live_server, challenge, tmp_path
):
    edition = make_edition(challenge=challenge)
    hana, alice = make_user("hana"), make_user("alice")
    edition.host = hana
    edition.save(update_fields=["host"])
    team = make_team(edition=edition, name="alice's team", users=[alice])
    entry = make_scored(
        edition=edition,
        team=team,
        top1=0.25,
        top5=0.1,
        method="resnet-ish",
        record={"dataset_fingerprint": "3f9a1c0d5e7b2a4c"},
    )
    Challenge.objects.filter(pk=challenge.pk).update(dataset_fingerprint="b71e0c2d9a4f6e13")
    host_control.submissions_rerun(edition=edition, by=hana, submission_ids=[entry.pk])
    job = services.submission_start(submission_id=entry.pk, worker="w")
    assert services.score_record(
        submission_id=entry.pk, attempt=job.attempt, error_code="model_crashed", error_message=CRASH
    )

    page = page_of(browser, live_server, alice)
    page.goto(f"{live_server.url}{entry.get_absolute_url()}")
    assert "stays current" in page.inner_text("#rerun-failed-notice")
    assert page.locator("table.rerun-failures tr.rerun-failure").count() == 1
    assert_accessible(page)
    shoot(page, tmp_path, "submission-rerun-failed")

    page = page_of(browser, live_server, hana)
    page.goto(f"{live_server.url}/c/{challenge.slug}/{edition.slug}/host/")
    row = page.locator(f'#rerun tr.rerun-failure[data-submission="{entry.pk}"]')
    assert "model_crashed" in row.inner_text() and "alice's team" in row.inner_text()
    assert page.locator("text=re-run failed").count() >= 1
    assert_accessible(page)
    shoot(page, tmp_path, "host-page-rerun-failed")


def test_a_frozen_robustness_board_shows_the_banner(browser, live_server, challenge, tmp_path):
    edition = make_edition(challenge=challenge)
    early = make_team(edition=edition, name="early")
    make_robust(edition=edition, team=early, top1=0.2, top5=0.1, robust=(0.3, 0.3), method="old")
    Score.objects.update(created_at=timezone.now() - dt.timedelta(hours=2))
    edition.board_frozen_at = timezone.now() - dt.timedelta(hours=1)
    edition.save(update_fields=["board_frozen_at"])
    late = make_team(edition=edition, name="late")
    make_robust(edition=edition, team=late, top1=0.2, top5=0.1, robust=(0.1, 0.1), method="new")

    page = page_of(browser, live_server)
    page.goto(f"{live_server.url}/c/{challenge.slug}/{edition.slug}/robustness/")
    assert "The public board is frozen" in page.inner_text("#frozen-notice")
    assert page.locator("table.robustness-board tbody tr[data-submission]").count() == 1
    assert_accessible(page)
    shoot(page, tmp_path, "robustness-frozen")
