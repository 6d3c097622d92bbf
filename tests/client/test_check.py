"""``leaderboard-cli check`` against the live server and a real Celery worker (a separate
process on the real Redis and PostgreSQL, as in tests/leaderboard/e2e): upload, wait, verdict,
exit 0 only for a model that would be scored."""

from __future__ import annotations

import json

import pytest

from leaderboard.api import tokens
from leaderboard.client import config
from leaderboard.models import ModelCheck, Submission
from tests.leaderboard.checks_helpers import linear_onnx, linear_torchscript, ten_class_edition
from tests.leaderboard.e2e import conftest as e2e
from tests.leaderboard.factories import make_user

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

scoring_queue = e2e.scoring_queue
workers = e2e.workers


def test_check_waits_for_the_worker_and_exits_by_the_verdict(
    cli, live_server, workers, settings, tmp_path
):
    settings.CELERY_TASK_DEFAULT_QUEUE = workers.queue  # the check goes to this test's worker
    workers.start("default1")
    ten_class_edition(tmp_path / "ten")
    user = make_user("dana")
    config.save_token(server=live_server.url, token=tokens.token_create(user=user).key)
    good = linear_onnx(tmp_path / "good.onnx")
    bad = linear_torchscript(tmp_path / "three.pt", classes=3)

    run = cli("check", good, "--edition", "ten/2025", "-q", "--timeout", "180")

    assert run.code == 0, (run.out, run.err)
    check = ModelCheck.objects.get(original_name="good.onnx")
    assert check.status == "done" and check.report["ok"]
    lines = run.out.splitlines()
    assert (
        lines[0] == f"checking good.onnx on Ten digits 2025: {live_server.url}/checks/{check.pk}/"
    )
    assert any(line.endswith("  would be scored") for line in lines if line[:2].isdigit())
    assert "verdict       would be scored" in run.out
    assert "format        onnx" in run.out and "(expected [10, 10])" in run.out
    assert "top-5 guesses on 10 public sample images" in run.out
    assert "a check is not a score and never appears on a board" in run.out

    run = cli("check", bad, "--edition", "ten/2025", "-q", "--json", "--timeout", "180")

    assert run.code == 1, (run.out, run.err)
    check = ModelCheck.objects.get(original_name="three.pt")
    body = json.loads(run.out)
    assert body["id"] == str(check.pk) and body["ok"] is False
    assert body["report"] == check.report and body["report"]["error_code"] == "model_check_failed"
    assert not check.file.name  # the checked file is not kept
    assert not Submission.objects.exists()

    run = cli("check", bad, "--edition", "ten/2025", "-q")
    assert run.code == 1
    message = check.report["error_message"]
    assert f"verdict       would fail: {message} [model_check_failed]" in run.out
