"""The robustness track in a real browser: a small network trained here on Fashion-MNIST.

The submission page's bar chart is drawn by the local plotly.js with one bar per transform, the
sample strip's images load, the leaderboards show the robust error, and the history chart's
"Robust error" button switches its points. Set SCREENSHOT_DIR to keep robustness.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluator import robustness
from leaderboard import services
from leaderboard.metrics import percent
from leaderboard.models import Submission
from leaderboard.services.robustness import challenge_robustness_enable
from leaderboard.tasks import score_robustness, score_submission
from tests.evaluator.models import export_onnx

from .factories import make_user
from .test_browser import CHROMIUM, log_in, page  # noqa: F401  (the browser fixture)
from .test_insights_browser import FASHION_MNIST, fashion_edition, trained_lenet  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(600),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
    pytest.mark.skipif(
        not (FASHION_MNIST / "train-images-idx3-ubyte.gz").exists(),
        reason="Debian's dataset-fashion-mnist is not installed",
    ),
]


def test_chart_strip_boards_and_history_toggle(page, live_server, fashion_edition, tmp_path):  # noqa: F811
    edition = fashion_edition
    challenge_robustness_enable(challenge=edition.challenge)
    user = make_user("ada")
    model = export_onnx(trained_lenet(), tmp_path / "lenet.onnx", example=torch.zeros(2, 1, 28, 28))
    submission = services.submission_create(
        edition=edition,
        user=user,
        upload=SimpleUploadedFile("lenet.onnx", model.read_bytes()),
        method_name="LeNet, two epochs",
    )
    assert score_submission.apply(args=[str(submission.pk)], throw=True).get() == "scored"
    assert score_robustness.apply(args=[str(submission.pk)], throw=True).get() == "measured"
    score = Submission.objects.get(pk=submission.pk).score
    assert score.public_top1_error < 0.3  # a trained network...
    assert score.public_robust_error > score.public_top1_error  # ...that the copies hurt

    log_in(page, live_server, "ada")
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"{live_server.url}{submission.get_absolute_url()}")
    page.locator("#chart-robustness[data-rendered='true']").wait_for()
    bars = page.evaluate("() => document.getElementById('chart-robustness').data[0].y.length")
    assert bars == 1 + len(robustness.NAMES)
    assert page.locator("#chart-robustness .point").count() == bars  # drawn, not only data
    assert page.locator(".robust-strip figure").count() == 1 + len(robustness.NAMES)
    broken = page.evaluate(
        "() => [...document.querySelectorAll('.robust-strip img')]"
        ".filter(img => !img.complete || img.naturalWidth === 0).length"
    )
    assert broken == 0
    page.locator("#chart-robustness .updatemenu-button").nth(1).click()  # top-5
    page.wait_for_function(
        "() => document.getElementById('chart-robustness').layout.yaxis.title.text"
        " === 'Top-5 error (%)'"
    )
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    page.locator("#robustness").screenshot(path=str(out / "robustness.png"))

    page.goto(f"{live_server.url}{edition.get_absolute_url()}")
    assert page.locator("td.robust").first.inner_text() == percent(score.public_robust_error, 2)
    page.locator("#robustness-link").click()
    page.locator("table.robustness-board").wait_for()
    assert page.locator("table.robustness-board tbody tr").count() == 1

    page.goto(f"{live_server.url}{edition.challenge.get_absolute_url()}")
    page.locator("#chart-history[data-rendered='true']").wait_for()
    page.locator("#chart-history .updatemenu-button", has_text="Robust error").click()
    page.wait_for_function(
        "() => document.getElementById('chart-history').layout.yaxis.title.text"
        " === 'Robust error (%)'"
    )
    shown = page.evaluate("() => document.getElementById('chart-history').data[0].y[0]")
    assert shown == pytest.approx(100 * score.public_robust_error, abs=1e-3)
