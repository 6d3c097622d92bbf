"""A classroom edition end to end, in a real browser (Debian's chromium) with a real Celery
worker process scoring on Redis and PostgreSQL.

An instructor creates the edition on the host page; a student joins with the code, forms a
team, uploads a model and watches its status turn to scored; the leaderboard row appears; the
challenge's history chart draws the submission as a point (checked in the DOM and in the
figure data plotly.js holds); after the close the private leaderboard is revealed.
Screenshots go to the test's tmp dir and, when ARTIFACTS_DIR is set, there too.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone

from leaderboard import services
from leaderboard.metrics import percent
from leaderboard.models import Edition, Submission, Team

from ..factories import make_challenge, make_user, onnx_bytes, write_file
from .conftest import SPEC

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pw-for-tests-1"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]


class Shots:
    """Full-page screenshots, named in order, kept under tmp_path and ARTIFACTS_DIR if set."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.artifacts = os.environ.get("ARTIFACTS_DIR")

    def take(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if self.artifacts:
            target = Path(self.artifacts) / "classroom"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / path.name)
        return path


@pytest.fixture
def browser(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls made between
    # browser steps are plain synchronous code (Django documents this switch for it).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
        connections.close_all()


def open_page(browser, live_server, username: str, outside: list[str]):
    """A fresh context logged in as ``username``; requests leaving the site are recorded."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith((live_server.url, "data:", "blob:")) else outside.append(r.url)
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(f"text={username}")
    return page


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M")


def test_instructor_creates_student_joins_uploads_and_sees_it_scored_ranked_and_revealed(
    browser, live_server, workers, digits_dir, tmp_path
):
    workers.start("gpu1")
    challenge = make_challenge(slug="digits", title="Digits", primary_metric="top5")
    services.challenge_import_dataset(
        challenge=challenge, fmt="npz", source=digits_dir, spec=SPEC, public_fraction=0.5, seed=3
    )
    get_user_model().objects.create_superuser("prof", "prof@example.org", PASSWORD)
    make_user("sam")
    model = write_file(tmp_path / "linear.onnx", onnx_bytes(height=28, width=28, classes=10))
    shots = Shots(tmp_path / "screenshots")
    outside: list[str] = []

    # The instructor creates an edition that needs its code, and reads the code off the page.
    prof = open_page(browser, live_server, "prof", outside)
    prof.goto(f"{live_server.url}/host/editions/new/?challenge=digits")
    now = timezone.now()
    prof.fill("input[name=title]", "Intro to deep learning")
    prof.fill("input[name=slug]", "intro")
    prof.select_option("select[name=time_zone]", "UTC")
    prof.fill("input[name=opens_at]", local(now - dt.timedelta(hours=1)))
    prof.fill("input[name=closes_at]", local(now + dt.timedelta(days=2)))
    prof.fill("input[name=max_team_size]", "2")
    prof.fill("input[name=final_submissions]", "1")
    prof.check("input[name=join_required]")
    shots.take(prof, "instructor-new-edition")
    prof.click("#edition-form button[type=submit]")
    prof.wait_for_selector("#join-code")
    code = prof.inner_text("#join-code").strip()
    edition = Edition.objects.get(slug="intro")
    assert code == edition.join_code and edition.join_required and edition.host.username == "prof"
    shots.take(prof, "instructor-dashboard")

    # The student joins with the code, forms a team and uploads a model.
    sam = open_page(browser, live_server, "sam", outside)
    sam.goto(f"{live_server.url}/join/")
    sam.fill("input[name=code]", code.lower())
    sam.click("main form button[type=submit]")
    sam.click("#join-button")
    sam.wait_for_url(f"{live_server.url}/c/digits/intro/team/")
    sam.fill("input[name=name]", "Owls")
    sam.click("form[action$='/team/create/'] button")
    sam.wait_for_selector("#team-code")
    assert Team.objects.get(edition=edition).name == "Owls"
    shots.take(sam, "student-team")

    sam.goto(f"{live_server.url}/c/digits/intro/submit/")
    sam.set_input_files("input[name=file]", str(model))
    sam.fill("input[name=method_name]", "linear probe")
    sam.click("#submit-form button[type=submit]")
    sam.wait_for_url(f"{live_server.url}/me/submissions/")
    sam.wait_for_selector("tr[data-status=scored]", timeout=180_000)  # polled, no reload
    submission = Submission.objects.get(edition=edition)
    assert submission.status == "scored" and submission.worker == "gpu1@e2e"
    public_top5 = submission.score.public_top5_error
    assert sam.inner_text("tr[data-status=scored] .top5") == percent(public_top5, 2)
    shots.take(sam, "student-scored")

    # The leaderboard row appears, with the submissions left.
    sam.goto(f"{live_server.url}/c/digits/intro/")
    row = sam.locator(f'tr[data-submission="{submission.pk}"]')
    assert "Owls" in row.inner_text() and percent(public_top5, 2) in row.inner_text()
    assert sam.get_attribute("table.leaderboard", "data-phase") == "public"
    assert "submissions left today" in sam.inner_text("#team-line")
    shots.take(sam, "leaderboard-public")

    # The edition's charts are a page of their own, linked from the leaderboard.
    sam.click("#charts-link")
    sam.wait_for_url(f"{live_server.url}/c/digits/intro/charts/")
    sam.wait_for_selector("#chart-progress[data-rendered=true]")
    shots.take(sam, "edition-charts")

    # The history chart draws the submission: a point in the SVG and in plotly's figure data.
    sam.goto(f"{live_server.url}/c/digits/")
    sam.wait_for_selector("#chart-history[data-rendered=true]")
    points = sam.evaluate(
        """() => {
            const trace = document.getElementById("chart-history").data
                .find((t) => t.name === "Submissions");
            return {ids: trace.customdata.map((c) => c[3]), y: trace.y};
        }"""
    )
    assert points["ids"] == [str(submission.pk)]
    assert points["y"][0] == pytest.approx(100 * public_top5, abs=1e-3)
    assert sam.locator("#chart-history .scatterlayer .trace path.point").count() >= 1
    assert sam.locator("#chart-history .modebar-btn[data-title='Download plot as SVG']").count()
    assert f'data-year="{edition.year}"' in sam.content()
    shots.take(sam, "history-chart")

    # After the close the private leaderboard is revealed.
    Edition.objects.filter(pk=edition.pk).update(closes_at=timezone.now() - dt.timedelta(seconds=1))
    sam.goto(f"{live_server.url}/c/digits/intro/")
    assert sam.get_attribute("table.leaderboard", "data-phase") == "private"
    private_top5 = submission.score.private_top5_error
    row_text = sam.locator(f'tr[data-submission="{submission.pk}"]').inner_text()
    assert percent(private_top5, 2) in row_text
    assert "Final standings" in sam.inner_text("nav.tabs")
    shots.take(sam, "leaderboard-private")

    assert outside == [], f"pages fetched from outside the site: {outside}"
