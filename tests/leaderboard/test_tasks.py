"""The scoring task body with the real evaluator, in this process (not through the queue)."""

from __future__ import annotations

import pytest

from leaderboard import services
from leaderboard.models import Submission
from leaderboard.tasks import score_submission, sweep_submissions

from .factories import make_edition, onnx_upload

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


def test_sweep_task_returns_its_report(db):
    assert sweep_submissions.apply().get() == {
        "requeued": [],
        "enqueued": [],
        "failed": [],
        "unsent": [],
    }
