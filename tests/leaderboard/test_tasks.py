"""The scoring task body with the real evaluator, in this process (not through the queue)."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from leaderboard import selectors, services
from leaderboard.errors import PLATFORM_ERROR
from leaderboard.models import Submission
from leaderboard.tasks import score_submission, sweep_submissions

from .conftest import queued_ids
from .factories import make_edition, make_team, onnx_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tiny_edition(compiled_challenge):
    return make_edition(challenge=compiled_challenge)


def run_task(submission_id) -> str:
    return score_submission.apply(args=[str(submission_id)], throw=True).get()


def test_scores_a_valid_model_and_keeps_the_full_record(tiny_edition, user, gpu_queue):
    submission = services.submission_create(
        edition=tiny_edition, user=user, upload=onnx_upload(), method_name="linear"
    )

    assert run_task(submission.pk) == "scored"

    submission = Submission.objects.select_related("score").get(pk=submission.pk)
    assert submission.status == Submission.Status.SCORED and submission.attempts == 1
    assert submission.worker
    score = submission.score
    assert score.n_images == 40
    assert score.public_n_images + score.private_n_images == 40
    assert 0.0 <= score.top5_error <= score.top1_error <= 1.0
    record = score.record
    assert record["format"] == "onnx"
    assert record["dataset_fingerprint"] == tiny_edition.challenge.dataset_fingerprint
    assert len(record["model_sha256"]) == 64
    assert len(record["per_class_accuracy"]) == 4
    assert "versions" in record

    assert run_task(submission.pk) == "skipped"  # a second delivery changes nothing


def test_a_model_that_fails_the_checks_is_failed_with_the_evaluators_message(
    tiny_edition, user, gpu_queue
):
    wrong_classes = onnx_upload(classes=3)
    submission = services.submission_create(
        edition=tiny_edition, user=user, upload=wrong_classes, method_name="three"
    )

    code = run_task(submission.pk)

    submission.refresh_from_db()
    assert submission.status == Submission.Status.FAILED
    assert submission.error_code == code != "scored"
    assert submission.error_message
    assert not hasattr(submission, "score")


def test_celerys_soft_time_limit_is_a_platform_fault_retried_then_refunded(
    tiny_edition, user, gpu_queue, settings, monkeypatch
):
    """The evaluator's own limit (SCORING_TIMEOUT_S) is the model's and sits below Celery's:
    Celery's firing means the worker hung, so the attempt goes back to the sweeper."""
    assert settings.SCORING_TIMEOUT_S < settings.CELERY_TASK_SOFT_TIME_LIMIT
    settings.SCORING_MAX_ATTEMPTS = 2

    def hang(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("evaluator.scoring.score", hang)
    team = make_team(edition=tiny_edition, name="owls", users=[user])
    submission = services.submission_create(
        edition=tiny_edition, user=user, upload=onnx_upload(), method_name="linear"
    )
    gpu_queue.delete("gpu")

    def used() -> int:
        return selectors.quota_usage(edition=tiny_edition, team_id=team.pk).total

    later = timezone.now() + dt.timedelta(hours=1)
    for attempt in (1, 2):
        assert run_task(submission.pk) == "released"
        submission.refresh_from_db()
        assert (submission.status, submission.attempts) == (Submission.Status.QUEUED, attempt)
        assert (submission.error_code, submission.worker) == ("", "")
        assert used() == 1  # waiting for its next attempt, it counts once
        report = services.submission_sweep(now=later)
        if attempt == 1:  # sent again by the sweeper
            assert report.enqueued == [str(submission.pk)]
            assert queued_ids(gpu_queue) == [str(submission.pk)]
            gpu_queue.delete("gpu")

    # Out of attempts: failed as the platform's fault, and no longer counted.
    assert report.failed == [str(submission.pk)]
    submission.refresh_from_db()
    assert (submission.status, submission.error_code) == (Submission.Status.FAILED, PLATFORM_ERROR)
    assert used() == 0


def test_sweep_task_returns_its_report(db):
    assert sweep_submissions.apply().get() == {
        "requeued": [],
        "enqueued": [],
        "failed": [],
        "unsent": [],
        "checks_failed": [],
        "mails_requeued": [],
        "mails_unsent": [],
        "robustness_sent": [],
        "robustness_failed": [],
    }
