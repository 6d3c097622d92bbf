"""A free model check in a real browser (Debian's chromium) with a real Celery worker process:
"Check my model (free)" on the submit page, then the result page updating by itself.

Set SCREENSHOT_DIR to keep the result pages' screenshots (check_bad.png, check_good.png).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from leaderboard.models import ModelCheck, Submission

from .checks_helpers import linear_onnx, linear_torchscript, ten_class_edition
from .e2e import conftest as e2e
from .factories import make_user
from .test_browser import CHROMIUM, log_in, page  # noqa: F401  (the browser fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]
scoring_queue = e2e.scoring_queue
workers = e2e.workers
CHECK_PAGE = re.compile(r"/checks/[0-9a-f-]{36}/$")


def check_on_the_submit_page(
    page,  # noqa: F811
    live_server,
    edition,
    model: Path,
    shots: Path | None = None,
) -> ModelCheck:
    page.goto(f"{live_server.url}/c/{edition.challenge.slug}/{edition.slug}/submit/")
    page.set_input_files("input[name=file]", str(model))
    if shots is not None:
        page.screenshot(path=str(shots / "check_submit_page.png"), full_page=True)
    page.click("#check-button")
    page.wait_for_url(CHECK_PAGE)
    return ModelCheck.objects.get(pk=page.url.rstrip("/").rsplit("/", 1)[1])


def test_a_bad_model_checked_on_the_submit_page_shows_the_wrong_shape(
    page,  # noqa: F811
    live_server,
    workers,
    settings,
    tmp_path,
):
    settings.CELERY_TASK_DEFAULT_QUEUE = workers.queue  # checks go to this test's worker
    edition = ten_class_edition(tmp_path / "ten")
    make_user("cleo")
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1200, "height": 900})
    log_in(page, live_server, "cleo")

    check = check_on_the_submit_page(
        page, live_server, edition, linear_torchscript(tmp_path / "three.pt", classes=3), shots
    )
    # No worker yet: the page shows the queued check, then follows it without a reload.
    assert page.get_attribute("#model-check", "data-status") == "queued"
    assert "A check is not a score and never appears on a board" in page.inner_text("#not-a-score")
    workers.start("default1")
    page.wait_for_selector("#check-error", timeout=120_000)

    check.refresh_from_db()
    assert check.status == "done" and check.report["ok"] is False
    error = page.inner_text("#check-error")
    assert "model_check_failed" in error and check.report["error_message"] in error
    assert "[10, 3]" in error and "Would fail" in page.inner_text("#check-status")
    assert page.inner_text("#check-loads") == "yes"
    assert "expected [10, 10]" in page.inner_text("#check-shape")
    assert not Submission.objects.exists()  # the check button never submits
    page.screenshot(path=str(shots / "check_bad.png"), full_page=True)

    check = check_on_the_submit_page(page, live_server, edition, linear_onnx(tmp_path / "ok.onnx"))
    page.wait_for_selector("#model-check[data-status=done]", timeout=120_000)
    assert "Would be scored" in page.inner_text("#check-status")
    assert page.locator("figure.top5").count() == 10
    assert page.locator("figure.top5 .guesses li").count() == 50
    broken = page.evaluate(
        "() => [...document.querySelectorAll('figure.top5 img')]"
        ".filter(img => !img.complete || img.naturalWidth === 0).length"
    )
    assert broken == 0
    assert page.locator("#check-error").count() == 0
    assert not Submission.objects.exists()
    page.screenshot(path=str(shots / "check_good.png"), full_page=True)
