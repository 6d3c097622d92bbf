"""A teacher hosts a challenge with only a browser; a student checks a model, then is scored.

Real Chromium, a real Celery worker process on Redis and PostgreSQL. The teacher creates the
challenge by uploading zips of class folders (PNG and JPEG written by PIL) as the hidden test
set and the training set, and watches both imports finish on the data page. A student takes
the class names from the starting kit, checks a model with the wrong number of outputs for
free (the message a submission would get), then submits a good one, which the worker scores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from django.contrib.auth.models import Permission
from torch import nn

from leaderboard.models import Challenge, DatasetImport, ModelCheck, Submission
from tests.evaluator.models import export_torchscript

from ..factories import make_user, onnx_bytes, write_file
from ..test_hosting import CLASSES, class_folders, zipped
from .test_classroom_browser import PASSWORD, Shots, browser, open_page  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]


def test_a_teacher_hosts_from_the_browser_and_a_student_is_scored(
    browser,  # noqa: F811
    live_server,
    workers,
    scoring_queue,
    settings,
    tmp_path,
):
    settings.CELERY_TASK_DEFAULT_QUEUE = scoring_queue  # imports go to this test's worker too
    workers.start("host1")
    teacher = make_user("teacher")
    teacher.user_permissions.add(Permission.objects.get(codename="add_challenge"))
    make_user("sam")
    archive = write_file(tmp_path / "pets.zip", zipped(class_folders(tmp_path / "src")))
    training = write_file(tmp_path / "train.zip", zipped(class_folders(tmp_path / "train", seed=1)))
    shots = Shots(tmp_path / "screenshots")
    outside: list[str] = []

    page = open_page(browser, live_server, "teacher", outside)
    page.click("#host-challenge")
    page.fill("input[name=title]", "Pets")
    page.fill("input[name=slug]", "pets")
    page.fill("textarea[name=description]", "Tell **cats** from dogs and eels.")
    page.click("[data-preset=mnist]")  # fills 1x28x28 with MNIST's statistics...
    assert page.input_value("input[name=height]") == "28"
    page.select_option("select[name=channels]", "3")  # ...then the teacher's own numbers
    page.fill("input[name=height]", "16")
    page.fill("input[name=width]", "16")
    page.fill("input[name=mean]", "0.5")
    page.fill("input[name=std]", "0.25")
    page.select_option("select[name=primary_metric]", "top1")
    page.set_input_files("input[name=test_set]", str(archive))
    page.set_input_files("input[name=train_set]", str(training))
    shots.take(page, "new-challenge-form")
    page.click("#challenge-form button[type=submit]")

    page.wait_for_selector("text=Data of Pets")
    page.wait_for_selector("#import-test .import-status:text('Done')", timeout=120_000)
    page.wait_for_selector("#import-train .import-status:text('Done')", timeout=120_000)
    page.wait_for_selector("text=12 images, 3 classes")
    assert page.locator("#import-test .strip img").count() == 3
    shots.take(page, "import-done")
    challenge = Challenge.objects.get(slug="pets")
    row = DatasetImport.objects.get(challenge=challenge, part="test")
    assert (row.status, row.done, row.total, row.fmt) == ("done", 12, 12, "imagefolder")
    assert challenge.class_names == list(CLASSES)
    assert challenge.samples.count() == 3  # one per class, from the training set

    edition = challenge.editions.get()
    model = write_file(
        tmp_path / "linear.onnx", onnx_bytes(channels=3, height=16, width=16, classes=3)
    )
    sam = open_page(browser, live_server, "sam", outside)

    # The starting kit: the class names, in index order, from the challenge page.
    sam.goto(f"{live_server.url}/c/pets/")
    with sam.expect_download() as download:
        sam.click("a:text('classes.txt')")
    assert Path(download.value.path()).read_text().split() == list(CLASSES)
    shots.take(sam, "student-kit")

    # A free check of a model with two outputs instead of three: the submission's own message.
    torch.manual_seed(0)
    wrong = export_torchscript(
        nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 2)).eval(), tmp_path / "two.pt"
    )
    sam.goto(f"{live_server.url}/c/pets/{edition.slug}/submit/")
    sam.set_input_files("input[name=file]", str(wrong))
    sam.click("#check-button")
    sam.wait_for_selector("#check-error", timeout=120_000)
    assert "expected [3, 3]" in sam.inner_text("#check-error")
    shots.take(sam, "student-check-wrong-shape")
    assert ModelCheck.objects.get().report["error_code"] == "model_check_failed"
    assert not Submission.objects.exists()  # a check is never a submission

    sam.goto(f"{live_server.url}/c/pets/{edition.slug}/submit/")
    sam.set_input_files("input[name=file]", str(model))
    sam.fill("input[name=method_name]", "linear")
    sam.click("#submit-form button[type=submit]")
    sam.wait_for_url(f"{live_server.url}/me/submissions/")
    sam.wait_for_selector("tr[data-status=scored]", timeout=180_000)  # polled, no reload
    shots.take(sam, "student-scored")
    submission = Submission.objects.get(edition=edition)
    assert submission.status == Submission.Status.SCORED
    assert submission.score.n_images == 12
    assert not outside, outside
