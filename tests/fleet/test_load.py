"""What one submission costs PostgreSQL and Redis: counted, for the capacity plan.

PostgreSQL: the queries of each step, counted in this process (the same code the web process
and the worker run). Redis: every command a real worker and this process send, counted by a
private redis-server of this test's own (INFO commandstats), so other clients add nothing.
Run with ``-s`` to see the tables (docs/capacity.md quotes them).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluator.spec import InputSpec
from leaderboard import processes, services
from leaderboard.celery import app as celery_app
from leaderboard.models import Edition, Submission
from leaderboard.tasks import merge_shards, score_shard, score_submission
from tests.leaderboard.e2e.conftest import database_url
from tests.leaderboard.e2e.helpers import wait_for_status
from tests.leaderboard.factories import make_challenge, make_edition, make_user, onnx_upload

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
FINISHED = {Submission.Status.SCORED, Submission.Status.FAILED}


def compiled_edition(*, tmp_path: Path, slug: str, n: int) -> Edition:
    """An open edition whose hidden set is n random 8x8 greyscale images of 4 classes."""
    rng = np.random.default_rng(n)
    source = tmp_path / f"{slug}-source"
    source.mkdir()
    np.savez(
        source / "test.npz",
        images=rng.integers(0, 256, size=(n, 8, 8), dtype=np.uint8),
        labels=np.arange(n, dtype=np.int64) % 4,
    )
    challenge = make_challenge(slug=slug, title=slug)
    services.challenge_import_dataset(
        challenge=challenge, fmt="npz", source=source, spec=InputSpec(channels=1, height=8, width=8)
    )
    return make_edition(challenge=challenge, daily_limit=100, total_limit=100)


@pytest.fixture
def load_settings(settings):
    """Sets of 100+ images in shards of 100: the 40-image set whole, the 400-image one in 4."""
    settings.SCORING_SHARD_MIN_IMAGES, settings.SCORING_SHARD_SIZE = 100, 100
    settings.INSIGHTS_TIMEOUT_S = 0
    return settings


def upload(*, edition: Edition, user) -> Submission:
    return services.submission_create(
        edition=edition,
        user=user,
        upload=onnx_upload(height=8, width=8, classes=4),
        method_name="m",
    )


def _drop_broker_connections() -> None:
    """Forget the app's pooled broker connections: they keep the URL they were opened with."""
    pool = celery_app._pool
    if pool is not None:
        pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def own_broker_connections() -> Iterator[None]:
    """These tests point the app at other brokers; later tests must get the real one back."""
    _drop_broker_connections()
    yield
    _drop_broker_connections()


def counted(step) -> int:
    with CaptureQueriesContext(connection) as queries:
        step()
    return len(queries)


def test_postgres_queries_per_submission(transactional_db, load_settings, tmp_path, monkeypatch):
    small = compiled_edition(tmp_path=tmp_path, slug="small", n=40)
    large = compiled_edition(tmp_path=tmp_path, slug="large", n=400)
    user = make_user("ann")
    monkeypatch.setitem(celery_app.conf, "broker_url", "memory://")  # messages go nowhere

    created: list[Submission] = []
    upload_q = counted(lambda: created.append(upload(edition=small, user=user)))
    key = str(created[0].pk)
    whole_q = counted(lambda: score_submission.apply(args=[key]).get())

    created.clear()
    counted(lambda: created.append(upload(edition=large, user=user)))
    key = str(created[0].pk)
    start_q = counted(lambda: score_submission.apply(args=[key]).get())
    shard_q = [counted(lambda i=i: score_shard.apply(args=[key, 1, i]).get()) for i in range(4)]
    merge_q = counted(lambda: merge_shards.apply(args=[key, 1]).get())
    assert Submission.objects.get(pk=key).status == Submission.Status.SCORED

    rows = [
        ("upload (web: checks, insert, enqueue)", upload_q),
        ("scored whole (worker: claim, score row, heartbeats)", whole_q),
        ("sharded: start (claim, 4 shard rows, send)", start_q),
        ("sharded: each shard (claim, done, heartbeats)", max(shard_q)),
        ("sharded: merge (checks, score row, heartbeats)", merge_q),
    ]
    print("\n| PostgreSQL queries | count |\n|---|---|")
    for label, n in rows:
        print(f"| {label} | {n} |")
    total = start_q + sum(shard_q) + merge_q
    print(f"| a whole submission: upload + scoring | {upload_q + whole_q} |")
    print(f"| a 4-shard submission: upload + start + shards + merge | {upload_q + total} |")
    assert upload_q + whole_q < 60 and max(shard_q) < 15 and merge_q < 20


@pytest.fixture
def private_redis(tmp_path) -> Iterator[str]:
    """A redis-server of this test's own on a free port; its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def command_calls(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


def difference(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) > 0}


def test_redis_commands_per_submission(
    transactional_db, load_settings, tmp_path, private_redis, monkeypatch, settings
):
    small = compiled_edition(tmp_path=tmp_path, slug="small", n=40)
    large = compiled_edition(tmp_path=tmp_path, slug="large", n=400)
    user = make_user("ann")
    queue = "load"
    settings.SCORING_QUEUE = queue
    monkeypatch.setitem(celery_app.conf, "broker_url", private_redis)
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env |= {
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": private_redis,
        "SCORING_QUEUE": queue,
        "SCORING_SHARD_MIN_IMAGES": "100",
        "SCORING_SHARD_SIZE": "100",
        "SCORING_SHARD_DIR": str(settings.SCORING_SHARD_DIR),
        "INSIGHTS_TIMEOUT_S": "0",
        "LEADERBOARD_VAR_DIR": str(tmp_path / "worker-var"),
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LEADERBOARD_DATA_ROOT": str(settings.DATA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "worker.log"
    argv = processes.celery_worker_argv(queues=[queue], name="load@%h")
    worker = processes.spawn(name="load", argv=argv, env=env, log=log)
    client = redis.Redis.from_url(private_redis)
    try:
        processes.wait_for_log(log, " ready.", timeout_s=120, alive=worker)
        time.sleep(2)
        t0, before = time.monotonic(), command_calls(client)
        time.sleep(5)
        idle = difference(command_calls(client), before)
        idle_per_s = sum(idle.values()) / (time.monotonic() - t0)

        before = command_calls(client)
        whole = [upload(edition=small, user=user) for _ in range(3)]
        for submission in whole:
            wait_for_status(submission, FINISHED, timeout_s=120)
        whole_calls = difference(command_calls(client), before)

        before = command_calls(client)
        sharded = upload(edition=large, user=user)
        sharded = wait_for_status(sharded, FINISHED, timeout_s=240)
        sharded_calls = difference(command_calls(client), before)
    finally:
        processes.stop(worker, grace_s=20)
    assert {s.status for s in whole} | {sharded.status} == {Submission.Status.SCORED}

    per_whole = sum(whole_calls.values()) / len(whole)
    print(f"\nidle worker: {idle_per_s:.1f} Redis commands/s ({idle})")
    print(f"scored whole: {per_whole:.1f} commands per submission: {whole_calls} over 3")
    print(f"sharded (4 shards + chord): {sum(sharded_calls.values())} commands: {sharded_calls}")
    assert per_whole < 100 and sum(sharded_calls.values()) < 400
