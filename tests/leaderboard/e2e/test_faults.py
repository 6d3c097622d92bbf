"""Faults with real worker processes: a worker lost mid-scoring, a broker down at upload time.

The database row is the source of truth: whatever the queue does with a message, a submission
ends scored or failed, never stuck, once the sweeper has run.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from leaderboard import processes, services
from leaderboard.celery import app as celery_app
from leaderboard.models import Submission

from ..factories import make_user, onnx_bytes, write_file
from .conftest import REDIS_URL
from .helpers import PASSWORD, upload, wait_for_status

pytestmark = pytest.mark.slow
Status = Submission.Status
FINISHED = {Status.SCORED, Status.FAILED}


def children_of() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int, *, depth: int) -> list[int]:
    """Processes exactly ``depth`` generations below ``pid`` (1: the worker's pool process)."""
    tree, level = children_of(), [pid]
    for _ in range(depth):
        level = [child for parent in level for child in tree.get(parent, [])]
    return level


def wait_until(check: Callable[[], object], *, timeout_s: float, what: str) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {timeout_s:g} s")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def client(transactional_db) -> Client:
    make_user("eve")
    client = Client()
    assert client.login(username="eve", password=PASSWORD)
    return client


def start_scoring_then_find_the_model_process(*, worker, submission) -> list[int]:
    """Wait for the row to be claimed and the sandboxed model process to be running."""
    wait_for_status(submission, {Status.RUNNING}, timeout_s=120, interval_s=0.02)
    # worker -> pool process -> the evaluator's sandbox (bwrap, or the bare child without it)
    return wait_until(
        lambda: descendants(worker.pid, depth=2), timeout_s=60, what="the model process"
    )


def test_a_worker_lost_mid_scoring_is_swept_and_a_fresh_worker_scores_it(
    workers, digits_edition, resnet_onnx, client
):
    # One image per forward pass: a run of seconds, so the kill lands in the middle of it.
    doomed = workers.start("doomed", SCORING_BATCH_SIZE="1")
    submission = upload(client=client, edition=digits_edition, model=resnet_onnx, method="r18")
    model_processes = start_scoring_then_find_the_model_process(
        worker=doomed, submission=submission
    )

    processes.kill(doomed)  # SIGKILL to the whole worker: a node lost, as the queue sees it

    wait_until(
        lambda: not any(alive(pid) for pid in model_processes),
        timeout_s=30,
        what="the model's process dying with its worker",
    )
    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == (Status.RUNNING, 1)
    assert submission.worker == "doomed@e2e" and not hasattr(submission, "score")

    workers.start("fresh")
    time.sleep(1)
    submission.refresh_from_db()
    assert submission.status == Status.RUNNING  # its message is held, unacknowledged, by Redis

    # The sweeper's run after the attempt's deadline (hard time limit plus a margin).
    report = services.submission_sweep(now=submission.deadline + dt.timedelta(seconds=1))
    assert report.requeued == [str(submission.pk)]

    submission = wait_for_status(submission, FINISHED, timeout_s=180)
    assert submission.status == Status.SCORED, submission.error_message
    assert (submission.attempts, submission.worker) == (2, "fresh@e2e")
    assert submission.score.n_images == 797


def test_a_pool_process_killed_mid_scoring_is_redelivered_skipped_then_swept(
    workers, digits_edition, resnet_onnx, client
):
    worker = workers.start("gpu1", SCORING_BATCH_SIZE="1")
    submission = upload(client=client, edition=digits_edition, model=resnet_onnx, method="r18")
    start_scoring_then_find_the_model_process(worker=worker, submission=submission)
    (pool_process,) = descendants(worker.pid, depth=1)

    os.kill(pool_process, signal.SIGKILL)

    # reject_on_worker_lost puts the message back; the redelivery finds the row still running
    # its first attempt and leaves it alone (it cannot tell a lost run from a slow one).
    wait_until(lambda: "'skipped'" in workers.log(worker), timeout_s=60, what="the redelivery")
    assert "WorkerLostError" in workers.log(worker)
    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == (Status.RUNNING, 1)

    report = services.submission_sweep(now=submission.deadline + dt.timedelta(seconds=1))
    assert report.requeued == [str(submission.pk)]
    submission = wait_for_status(submission, FINISHED, timeout_s=180)
    assert (submission.status, submission.attempts) == (Status.SCORED, 2)


def test_an_upload_while_the_broker_is_down_is_kept_then_swept_to_the_worker(
    workers, digits_edition, client, monkeypatch, tmp_path
):
    workers.start("gpu1")
    model = write_file(tmp_path / "linear.onnx", onnx_bytes(height=28, width=28, classes=10))
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")  # refused

    submission = upload(client=client, edition=digits_edition, model=model, method="linear")

    assert submission.status == Status.QUEUED and submission.enqueued_at is None
    time.sleep(2)
    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == (Status.QUEUED, 0)
    later = timezone.now() + dt.timedelta(minutes=2)  # past the grace period after creation
    assert services.submission_sweep(now=later).unsent == [str(submission.pk)]

    monkeypatch.setitem(celery_app.conf, "broker_url", REDIS_URL)  # the broker is back
    report = services.submission_sweep(now=later)
    assert report.enqueued == [str(submission.pk)] and report.unsent == []

    submission = wait_for_status(submission, FINISHED, timeout_s=120)
    assert (submission.status, submission.attempts) == (Status.SCORED, 1), submission.error_message
