"""Between the score and its "What the network sees" panels (the worker records them after the
score), the submission page says they are being computed and waits for them, rather than saying
they were not computed: in the view, in the status JSON the page polls, and in a real browser.

Set SCREENSHOT_DIR to keep the waiting page's screenshot (insights-pending.png)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from leaderboard import services
from leaderboard.models import Score
from leaderboard.selectors.insights import PENDING_MARGIN

from .factories import make_edition, make_scored, make_team, make_user
from .test_browser import CHROMIUM, log_in, page  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]
STORED = {"errors": {}, "samples": [], "occlusion": []}  # what the worker stores, at its least


@pytest.fixture
def scored(compiled_challenge):
    """A student's entry scored a moment ago on a challenge with sample images, no panels yet."""
    services.challenge_samples_from_training(
        challenge=compiled_challenge, fmt="npz", source=Path(compiled_challenge.train_data_path)
    )
    student = make_user("sam")
    edition = make_edition(challenge=compiled_challenge)
    team = make_team(edition=edition, name="sams", users=[student])
    return make_scored(edition=edition, team=team, top1=0.25, top5=0.0)


def status_of(client, submission) -> dict:
    return client.get(reverse("submission_status", args=[submission.pk])).json()


def test_the_page_waits_for_the_panels_then_shows_them(scored, client):
    client.force_login(scored.team.members.get())
    body = client.get(scored.get_absolute_url()).content.decode()
    assert 'id="insights-pending"' in body and "submission_status.js" in body
    assert "Not computed for this submission" not in body
    status = status_of(client, scored)
    assert status["final"] is True and status["insights"] is False

    Score.objects.filter(submission=scored).update(record={"insights": STORED})
    assert status_of(client, scored)["insights"] is True
    body = client.get(scored.get_absolute_url()).content.decode()
    assert "insights-pending" not in body and "submission_status.js" not in body


def test_past_the_panels_time_limit_the_page_says_they_were_not_computed(scored, client, settings):
    late = dt.timedelta(seconds=settings.INSIGHTS_TIMEOUT_S) + PENDING_MARGIN
    Score.objects.filter(submission=scored).update(
        created_at=timezone.now() - late - dt.timedelta(seconds=5)
    )
    client.force_login(scored.team.members.get())
    body = client.get(scored.get_absolute_url()).content.decode()
    assert "Not computed for this submission" in body and "insights-pending" not in body


def test_with_the_panels_turned_off_nothing_is_waited_for(scored, client, settings):
    settings.INSIGHTS_TIMEOUT_S = 0
    client.force_login(scored.team.members.get())
    body = client.get(scored.get_absolute_url()).content.decode()
    assert "insights-pending" not in body and "submission_status.js" not in body


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
def test_the_open_page_loads_the_panels_once_the_worker_stores_them(
    scored,
    page,  # noqa: F811
    live_server,
):
    log_in(page, live_server, "sam")
    page.goto(f"{live_server.url}{scored.get_absolute_url()}")
    assert page.is_visible("#insights-pending")
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{os.environ['SCREENSHOT_DIR']}/insights-pending.png", full_page=True)
    Score.objects.filter(submission=scored).update(record={"insights": STORED})
    page.wait_for_selector("#insights-pending", state="detached", timeout=20_000)
    assert "Not computed for this submission" not in page.content()
