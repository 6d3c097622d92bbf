"""Upload to leaderboard through a real Celery worker process, checked against onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from django.test import Client

from leaderboard import selectors
from leaderboard.metrics import percent
from leaderboard.models import Submission

from ..factories import make_user
from .conftest import normalised
from .helpers import PASSWORD, top_k_errors, upload, wait_for_status

pytestmark = pytest.mark.slow
Status = Submission.Status


def independent_errors(*, dataset_dir: Path, model: Path, spec: dict) -> dict[str, dict]:
    """Score ``model`` on the compiled files directly: no evaluator code, onnxruntime alone."""
    # The documented layout: images/images.npy, labels/labels.npy, labels/split.npy.
    images = np.load(dataset_dir / "images" / "images.npy")
    labels = np.load(dataset_dir / "labels" / "labels.npy")
    public = np.load(dataset_dir / "labels" / "split.npy")
    session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    x = normalised(images, mean=spec["mean"], std=spec["std"])
    logits = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert logits.shape == (len(labels), 10)
    assert len(set(logits.argmax(1).tolist())) > 3  # a real classifier, not a constant one
    return {
        "all": top_k_errors(logits, labels),
        "public": top_k_errors(logits[public], labels[public]),
        "private": top_k_errors(logits[~public], labels[~public]),
    }


def test_an_uploaded_resnet_is_scored_by_a_worker_and_ranked_as_computed_independently(
    workers, digits_edition, resnet_onnx
):
    workers.start("gpu1")
    make_user("dana")
    client = Client()
    assert client.login(username="dana", password=PASSWORD)

    submission = upload(client=client, edition=digits_edition, model=resnet_onnx, method="r18")
    assert submission.status == Status.QUEUED and submission.enqueued_at is not None

    submission = wait_for_status(submission, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert submission.status == Status.SCORED, submission.error_message
    assert submission.attempts == 1 and submission.worker == "gpu1@e2e"

    challenge = digits_edition.challenge
    expected = independent_errors(
        dataset_dir=challenge.dataset_dir, model=resnet_onnx, spec=challenge.input_spec
    )
    score = submission.score
    assert score.n_images == challenge.n_test_images == 797
    assert (score.top1_error, score.top5_error) == (expected["all"][1], expected["all"][5])
    assert (score.public_top1_error, score.public_top5_error) == (
        expected["public"][1],
        expected["public"][5],
    )
    assert (score.private_top1_error, score.private_top5_error) == (
        expected["private"][1],
        expected["private"][5],
    )
    assert 0 < score.top5_error < score.top1_error < 0.9

    # While the edition runs, the board ranks on the public part by the primary metric (top-5).
    (row,) = selectors.leaderboard_rows(edition=digits_edition, phase="public", metric="top5")
    assert row.pk == submission.pk and row.position == 1 and row.team_name == "dana"
    assert (row.metric_value, row.other_value) == (expected["public"][5], expected["public"][1])
    page = Client().get(digits_edition.get_absolute_url()).content.decode()
    assert percent(expected["public"][5], 2) in page  # pages show errors as percentages
    assert percent(expected["public"][1], 2) in page
    assert "r18" in page
