"""The sweeper and free model checks whose worker is gone (killed, out of memory, machine lost):
past its deadline a check is failed with a message saying so, stops counting against the
hourly cap, and the page stops waiting; within it, nothing is touched."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from leaderboard import services, workflows
from leaderboard.errors import SubmissionRefused
from leaderboard.models import ModelCheck
from leaderboard.services.checks import QUEUE_LOST, WORKER_LOST

from . import checks_helpers
from .checks_helpers import linear_onnx, ten_class_edition

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]
check_queue = checks_helpers.check_queue
LIMIT_S, MARGIN_S = 60, 10  # the hard time limit and the margin, short for these tests


@pytest.fixture
def edition(tmp_path, settings):
    settings.CELERY_TASK_TIME_LIMIT = LIMIT_S
    settings.SCORING_DEADLINE_MARGIN_S = MARGIN_S
    settings.MODEL_CHECKS_PER_HOUR = 1
    return ten_class_edition(tmp_path / "ten")


@pytest.fixture
def model(tmp_path) -> Path:
    return linear_onnx(tmp_path / "good.onnx")


def create(edition, user, model: Path, **kwargs) -> ModelCheck:
    upload = SimpleUploadedFile(model.name, model.read_bytes())
    return services.model_check_create(edition=edition, user=user, upload=upload, **kwargs)


def claimed(check: ModelCheck, *, at: dt.datetime) -> ModelCheck:
    """What the worker does first: the check running, with its deadline."""
    running = services.model_check_start(check_id=check.pk, now=at)
    assert running is not None and running.status == "running"
    assert running.deadline == at + dt.timedelta(seconds=LIMIT_S + MARGIN_S)
    return running


def test_a_running_check_past_its_deadline_is_failed_and_stops_counting(
    edition, user, model, check_queue
):
    start = timezone.now()
    check = claimed(create(edition, user, model), at=start)
    stored = Path(check.file.path)
    later = start + dt.timedelta(seconds=LIMIT_S + MARGIN_S + 1)

    # The worker died: the check still counts, and the hourly cap (one) refuses another.
    assert services.model_checks_used(user=user, now=later) == 1
    with pytest.raises(SubmissionRefused) as refused:
        create(edition, user, model, now=later)
    assert refused.value.code == "check_limit"

    report = services.submission_sweep(now=later)

    assert report.checks_failed == [str(check.pk)]
    assert report.summary() == f"1 model check failed, its worker is gone ({check.pk})"
    check.refresh_from_db()
    assert (check.status, check.error_message) == ("failed", WORKER_LOST)
    assert check.finished_at == later and not check.file.name and not stored.exists()
    assert "does not count against your checks; run it again" in check.error_message
    assert services.model_checks_used(user=user, now=later) == 0
    assert create(edition, user, model, now=later).status == "queued"

    # A late delivery of the lost task finds the check finished and leaves it so.
    assert workflows.check_model(check_id=str(check.pk)) == "skipped"
    check.refresh_from_db()
    assert (check.status, check.error_message) == ("failed", WORKER_LOST)


def test_a_check_within_its_deadline_is_left_alone(edition, user, model, check_queue, settings):
    settings.MODEL_CHECKS_PER_HOUR = 2
    start = timezone.now()
    running = claimed(create(edition, user, model), at=start)
    queued = create(edition, user, model)
    just_before = start + dt.timedelta(seconds=LIMIT_S + MARGIN_S - 1)

    report = services.submission_sweep(now=just_before)

    assert report.checks_failed == [] and report.summary() == ""
    running.refresh_from_db()
    queued.refresh_from_db()
    assert (running.status, running.error_message) == ("running", "")
    assert (queued.status, queued.error_message) == ("queued", "")
    assert Path(running.file.path).is_file() and Path(queued.file.path).is_file()
    assert services.model_checks_used(user=user, now=just_before) == 2
    # ... and the worker still records its result.
    assert services.model_check_finish(check_id=running.pk, report={"ok": True})


def test_a_check_whose_message_was_lost_is_failed_once(edition, user, model, check_queue):
    check = create(edition, user, model)
    later = check.created_at + dt.timedelta(seconds=LIMIT_S + MARGIN_S + 1)

    first = services.submission_sweep(now=later)
    second = services.submission_sweep(now=later + dt.timedelta(minutes=1))

    assert first.checks_failed == [str(check.pk)]
    assert second.checks_failed == [] and second.summary() == ""
    check.refresh_from_db()
    assert (check.status, check.error_message, check.finished_at) == ("failed", QUEUE_LOST, later)
    assert services.model_checks_used(user=user, now=later) == 0
    assert workflows.check_model(check_id=str(check.pk)) == "skipped"


def test_the_page_of_a_swept_check_says_why_and_stops_waiting(
    client, edition, user, model, check_queue
):
    start = timezone.now()
    check = claimed(create(edition, user, model), at=start)
    services.submission_sweep(now=start + dt.timedelta(seconds=LIMIT_S + MARGIN_S + 1))
    client.force_login(user)

    page = client.get(f"/checks/{check.pk}/").content.decode()
    status = client.get(f"/checks/{check.pk}/status/").json()

    assert 'data-status="failed"' in page and "updates by itself" not in page
    assert "The worker running this check stopped before it finished" in page
    assert status["status"] == "failed" and status["finished"] is True
