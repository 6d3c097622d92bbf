"""In a real browser (Debian's chromium): upload with a progress bar, statuses that update live."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections

from leaderboard import services
from leaderboard.models import Submission

from .factories import make_edition, make_user, onnx_bytes

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]
RESULT = {
    "top1_error": 0.25,
    "top5_error": 0.0,
    "n_images": 8,
    "public": {"top1_error": 0.125, "top5_error": 0.0, "n_images": 4},
    "private": {"top1_error": 0.375, "top5_error": 0.0, "n_images": 4},
}


@pytest.fixture
def page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls made here between
    # browser steps are still plain synchronous code (Django documents this switch for it).
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
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        # Connections opened while Playwright's loop ran live in their own context: close them.
        connections.close_all()


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.wait_for_selector(f"text={username}")


def test_upload_with_progress_then_status_updates_without_reload(
    page, live_server, challenge, tmp_path, gpu_queue
):
    edition = make_edition(challenge=challenge)
    make_user("bea")
    model = tmp_path / "model.onnx"
    model.write_bytes(onnx_bytes())
    log_in(page, live_server, "bea")

    page.goto(f"{live_server.url}/c/{challenge.slug}/{edition.slug}/submit/")
    page.set_input_files("input[name=file]", str(model))
    page.fill("input[name=method_name]", "browser upload")
    with page.expect_request(lambda r: r.method == "POST") as posted:
        page.click("#submit-form button[type=submit]")
    assert posted.value.resource_type == "xhr"  # sent by upload.js, not a plain form post
    page.wait_for_url(f"{live_server.url}/me/submissions/")
    row = page.locator("tr[data-status]")
    assert row.get_attribute("data-status") == "queued"

    submission = Submission.objects.get()
    job = services.submission_start(submission_id=submission.pk, worker="w")
    services.score_record(submission_id=submission.pk, attempt=job.attempt, result=RESULT)

    page.wait_for_selector("tr[data-status=scored]")  # polled, no reload
    assert page.locator("tr[data-status=scored] .top1").inner_text() == "12.50%"


def test_too_large_file_is_refused_in_the_browser_before_uploading(
    page, live_server, challenge, tmp_path
):
    edition = make_edition(challenge=challenge, max_upload_mb=1)
    make_user("cid")
    big = tmp_path / "big.onnx"
    big.write_bytes(onnx_bytes() + b"\0" * (2 * 2**20))
    log_in(page, live_server, "cid")

    page.goto(f"{live_server.url}/c/{challenge.slug}/{edition.slug}/submit/")
    page.set_input_files("input[name=file]", str(big))
    page.fill("input[name=method_name]", "too big")
    requests = []
    page.on("request", lambda r: requests.append(r) if r.method == "POST" else None)
    page.click("#submit-form button[type=submit]")
    page.wait_for_selector("#upload-errors:not([hidden])")
    assert "at most 1.0 MB" in page.inner_text("#upload-errors")
    assert requests == [] and Submission.objects.count() == 0
