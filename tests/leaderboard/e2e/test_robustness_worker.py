"""The robustness track through a real Celery worker: the upload's clean score is recorded first,
then the same worker scores the transformed copies in a run of their own; every copy's error
equals onnxruntime's on the copy's files, computed here without the evaluator."""

from __future__ import annotations

import time

import numpy as np
import onnxruntime
import pytest
from django.test import Client

from evaluator import layout, robustness
from leaderboard.models import RobustnessRun, Submission
from leaderboard.services.robustness import challenge_robustness_enable

from ..factories import make_user
from .conftest import normalised
from .helpers import PASSWORD, top_k_errors, upload, wait_for_status
from .test_worker import independent_errors

pytestmark = pytest.mark.slow
Status = Submission.Status


def wait_for_robustness(submission: Submission, *, timeout_s: float) -> RobustnessRun:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = RobustnessRun.objects.filter(submission=submission).first()
        if run is not None and not run.waiting:
            return run
        time.sleep(0.5)
    raise AssertionError(f"the robustness run of {submission.pk} did not finish in {timeout_s} s")


def test_the_clean_score_is_recorded_before_the_worker_scores_the_copies(
    workers, digits_edition, resnet_onnx
):
    challenge = digits_edition.challenge
    challenge_robustness_enable(challenge=challenge)
    workers.start("gpu1")
    make_user("dana")
    client = Client()
    assert client.login(username="dana", password=PASSWORD)

    submission = upload(client=client, edition=digits_edition, model=resnet_onnx, method="r18")
    submission = wait_for_status(submission, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert submission.status == Status.SCORED, submission.error_message
    run = wait_for_robustness(submission, timeout_s=180)
    assert run.status == RobustnessRun.Status.DONE, run.error_message
    assert run.worker == "gpu1@e2e" and run.attempts == 1
    assert run.started_at >= submission.finished_at  # the clean score was on the board first

    score = Submission.objects.select_related("score").get(pk=submission.pk).score
    robust = score.record["robustness"]
    clean = independent_errors(
        dataset_dir=challenge.dataset_dir, model=resnet_onnx, spec=challenge.input_spec
    )
    assert score.top1_error == pytest.approx(clean["all"][1], abs=1e-9)
    assert robust["clean"]["all"]["top1_error"] == pytest.approx(clean["all"][1], abs=1e-9)

    labels = np.load(challenge.dataset_dir / "labels" / "labels.npy")
    session = onnxruntime.InferenceSession(str(resnet_onnx), providers=["CPUExecutionProvider"])
    spec = challenge.input_spec
    corruption_errors = []
    for name in robustness.NAMES:
        copy = np.load(layout.robust_dir(challenge.dataset_dir) / f"{name}.npy")
        x = normalised(copy, mean=spec["mean"], std=spec["std"])
        logits = session.run(None, {session.get_inputs()[0].name: x})[0]
        expected = top_k_errors(logits, labels)
        got = robust["results"][name]["all"]
        assert got["top1_error"] == pytest.approx(expected[1], abs=1e-9), name
        assert got["top5_error"] == pytest.approx(expected[5], abs=1e-9), name
        if not next(t for t in robustness.catalogue((name,))).get("control"):
            corruption_errors.append(expected[1])
    assert score.robust_error == pytest.approx(float(np.mean(corruption_errors)), abs=1e-9)
