"""``submit --wait`` with a real Celery worker: the statuses as they change, then the result.

The worker is the end-to-end tests' (a separate process on the real Redis and PostgreSQL, see
tests/leaderboard/e2e/conftest.py); the upload goes over HTTP to the live server.
"""

from __future__ import annotations

import pytest

from leaderboard.api import tokens
from leaderboard.client import config
from leaderboard.models import Submission
from tests.leaderboard.e2e import conftest as e2e
from tests.leaderboard.factories import make_user, onnx_bytes

pytestmark = pytest.mark.slow

scoring_queue = e2e.scoring_queue
workers = e2e.workers
digits_dir = e2e.digits_dir
digits_edition = e2e.digits_edition


def test_submit_wait_follows_the_worker_until_scored_or_failed(
    cli, live_server, workers, digits_edition, tmp_path
):
    workers.start("gpu1")
    user = make_user("dana")
    config.save_token(server=live_server.url, token=tokens.token_create(user=user).key)
    good = tmp_path / "linear.onnx"
    good.write_bytes(onnx_bytes(channels=1, height=28, width=28, classes=10))
    bad = tmp_path / "three-classes.onnx"  # the challenge has ten
    bad.write_bytes(onnx_bytes(channels=1, height=28, width=28, classes=3))

    run = cli(
        "submit",
        good,
        "--edition",
        "digits/2025",
        "--method",
        "linear",
        "--wait",
        "--timeout",
        "180",
    )

    assert run.code == 0, run.err
    submission = Submission.objects.get(method_name="linear")
    score = submission.score
    assert submission.status == "scored" and submission.worker == "gpu1@e2e"
    lines = run.out.splitlines()
    assert lines[0] == f"submitted {submission.pk} to Digits 2025: queued"
    changes = [line.split("  ", 1)[1] for line in lines if line[:2].isdigit()]
    assert changes[-1] == (
        f"scored: top-1 error {score.public_top1_error:.4f}, "
        f"top-5 error {score.public_top5_error:.4f} (public part of the test set)"
    )
    assert len(changes) == len(set(changes))  # each status printed once
    assert set(changes[:-1]) <= {"queued", "running (attempt 1)"}
    assert f"public part  top-1 error {score.public_top1_error:.4f}" in run.out

    run = cli("submit", bad, "--edition", "digits/2025", "--method", "bad", "--wait", "-q")

    failed = Submission.objects.get(method_name="bad")
    assert failed.status == "failed"
    assert run.code == 3, run.err
    assert f"failed: {failed.error_message} [{failed.error_code}]" in run.out

    board = cli("leaderboard", "digits/2025")
    assert "dana" in board.out and f"{score.public_top5_error:.4f}" in board.out
