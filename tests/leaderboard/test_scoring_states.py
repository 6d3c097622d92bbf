"""Conditional state changes (queued -> running -> scored/failed) and the sweeper."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core.management import call_command
from django.utils import timezone

from leaderboard import services
from leaderboard.celery import app as celery_app
from leaderboard.errors import PLATFORM_ERROR
from leaderboard.models import Submission

from .conftest import queued_ids
from .factories import onnx_upload

pytestmark = pytest.mark.django_db(transaction=True)
Status = Submission.Status
RESULT = {
    "top1_error": 0.5,
    "top5_error": 0.25,
    "n_images": 8,
    "public": {"top1_error": 0.5, "top5_error": 0.0, "n_images": 4},
    "private": {"top1_error": 0.5, "top5_error": 0.5, "n_images": 4},
    "model_sha256": "ab" * 32,
}


@pytest.fixture
def submission(edition, user, gpu_queue) -> Submission:
    created = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="m"
    )
    gpu_queue.delete("gpu")
    return created


@pytest.fixture
def broker_down(monkeypatch):
    """Point the producer at a port where nothing listens: a real connection refusal."""
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")


def test_start_claims_once_and_record_needs_the_same_attempt(submission):
    job = services.submission_start(submission_id=submission.pk, worker="gpu-1")
    assert job is not None and job.attempt == 1
    assert job.model_path.name == str(submission.pk)
    assert services.submission_start(submission_id=submission.pk, worker="gpu-2") is None

    assert not services.score_record(submission_id=submission.pk, attempt=2, result=RESULT)
    assert services.score_record(submission_id=submission.pk, attempt=1, result=RESULT)
    assert not services.score_record(submission_id=submission.pk, attempt=1, error_code="x")

    submission.refresh_from_db()
    assert submission.status == Status.SCORED
    assert submission.worker == "gpu-1"
    assert submission.finished_at is not None
    assert submission.score.public_top5_error == 0.0
    assert submission.score.private_top5_error == 0.5
    assert submission.score.record["model_sha256"] == "ab" * 32


def test_failure_keeps_the_evaluators_code_and_message(submission):
    job = services.submission_start(submission_id=submission.pk, worker="w")
    services.score_record(
        submission_id=submission.pk,
        attempt=job.attempt,
        error_code="model_check_failed",
        error_message="logits have shape (8, 3); expected (8, 4)",
    )
    submission.refresh_from_db()
    assert submission.status == Status.FAILED
    assert submission.error_code == "model_check_failed"
    assert "expected (8, 4)" in submission.error_message


def test_sweeper_sends_again_what_was_never_enqueued(submission, gpu_queue):
    Submission.objects.filter(pk=submission.pk).update(enqueued_at=None)
    now = timezone.now()

    report = services.submission_sweep(now=now)
    assert report.enqueued == []  # within the grace period after creation

    report = services.submission_sweep(now=now + dt.timedelta(minutes=2))
    assert report.enqueued == [str(submission.pk)]
    assert queued_ids(gpu_queue) == [str(submission.pk)]
    submission.refresh_from_db()
    assert submission.enqueued_at is not None

    report = services.submission_sweep(now=now + dt.timedelta(minutes=3))
    assert report.enqueued == []  # sent recently: left alone


def test_sweeper_takes_back_a_run_past_its_deadline(submission, gpu_queue):
    job = services.submission_start(submission_id=submission.pk, worker="lost-worker")
    submission.refresh_from_db()

    assert (
        services.submission_sweep(now=submission.deadline - dt.timedelta(seconds=1)).requeued == []
    )
    report = services.submission_sweep(now=submission.deadline + dt.timedelta(seconds=1))

    assert report.requeued == [str(submission.pk)]
    assert queued_ids(gpu_queue) == [str(submission.pk)]
    submission.refresh_from_db()
    assert submission.status == Status.QUEUED and submission.attempts == 1
    # The lost worker's late report changes nothing; the next attempt is number 2.
    assert not services.score_record(
        submission_id=submission.pk, attempt=job.attempt, result=RESULT
    )
    assert services.submission_start(submission_id=submission.pk, worker="w2").attempt == 2


def test_sweeper_fails_a_submission_out_of_attempts(submission, settings):
    settings.SCORING_MAX_ATTEMPTS = 2
    for _ in range(2):
        services.submission_start(submission_id=submission.pk, worker="w")
        submission.refresh_from_db()
        report = services.submission_sweep(now=submission.deadline + dt.timedelta(seconds=1))
    assert report.failed == [str(submission.pk)]
    submission.refresh_from_db()
    assert submission.status == Status.FAILED
    assert submission.error_code == PLATFORM_ERROR
    assert "not with your model" in submission.error_message


def test_start_refuses_past_the_attempt_limit(submission, settings):
    settings.SCORING_MAX_ATTEMPTS = 1
    services.submission_start(submission_id=submission.pk, worker="w")
    submission.refresh_from_db()
    services.submission_release(submission_id=submission.pk, attempt=1)
    assert services.submission_start(submission_id=submission.pk, worker="w") is None
    submission.refresh_from_db()
    assert submission.status == Status.FAILED and submission.error_code == PLATFORM_ERROR


def test_upload_while_the_broker_is_down_is_kept_and_sent_later(
    edition, user, settings, gpu_queue, broker_down, monkeypatch, caplog
):
    with caplog.at_level(logging.ERROR, logger="leaderboard.services.enqueue"):
        submission = services.submission_create(
            edition=edition, user=user, upload=onnx_upload(), method_name="m"
        )
    assert "could not enqueue submission" in caplog.text

    submission.refresh_from_db()
    assert submission.status == Status.QUEUED and submission.enqueued_at is None
    assert submission.file.storage.exists(submission.file.name)
    later = timezone.now() + dt.timedelta(minutes=2)
    assert services.submission_sweep(now=later).unsent == [str(submission.pk)]

    monkeypatch.undo()  # the broker is back
    report = services.submission_sweep(now=later)
    assert report.enqueued == [str(submission.pk)] and report.unsent == []
    assert queued_ids(gpu_queue) == [str(submission.pk)]


def test_sweep_command_prints_its_report(submission, capsys):
    call_command("sweep_submissions")
    assert '"requeued": []' in capsys.readouterr().out
