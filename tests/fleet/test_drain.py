"""The drain benchmark's machinery, on a handful of submissions (the figures come from
``manage.py bench_drain``, run by hand: see the README)."""

from __future__ import annotations

import os

import pytest

from leaderboard.celery import app as celery_app
from leaderboard.fleet.drain import drain, worker_env_from
from leaderboard.models import Challenge, Submission
from tests.leaderboard.e2e.conftest import REDIS_URL, database_url, purge_queue

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_a_small_drain_scores_everything_with_real_workers_and_leaves_nothing(
    transactional_db, settings, tmp_path, monkeypatch
):
    monkeypatch.setitem(celery_app.conf, "broker_url", REDIS_URL)
    env = worker_env_from(
        {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    ) | {
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "LEADERBOARD_VAR_DIR": str(tmp_path / "worker-var"),
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LEADERBOARD_DATA_ROOT": str(settings.DATA_ROOT),
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    said = []
    runs = drain(submissions=3, worker_counts=[2], worker_env=env, logs=logs, say=said.append)

    assert [(r.workers, r.submissions, r.scored, r.failed) for r in runs] == [(2, 3, 3, 0)]
    assert all(r.seconds > 0 and r.per_minute > 0 and r.median_scoring_s > 0 for r in runs)
    assert any("per minute" in line for line in said)
    assert not Challenge.objects.exists() and not Submission.objects.exists()
    assert not (settings.MEDIA_ROOT / "bench-drain").exists()
    for line in said:  # each run used a queue of its own, removed afterwards
        if " to drain-" in line:
            purge_queue(line.rsplit(" ", 1)[1])
