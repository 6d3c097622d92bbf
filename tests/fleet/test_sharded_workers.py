"""A hidden set scored as shards by two real worker processes (w1@%h, w2@%h) on the real Redis
and PostgreSQL, merged by the chord's callback, and equal to one worker scoring it whole; then
one worker SIGKILLed in the middle of a shard, and the submission still scored exactly once.

The digits set (797 images) is cut into shards of 200, so four shards; ResNet-18 as ONNX.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from pathlib import Path

import pytest
from django.test import Client

from evaluator.scoring import score
from leaderboard import processes, sharding
from leaderboard.models import Score, ScoringShard, Submission, WorkerHeartbeat
from leaderboard.processes import Child
from leaderboard.tasks import merge_shards
from tests.leaderboard.e2e.helpers import PASSWORD, upload, wait_for_status
from tests.leaderboard.e2e.test_faults import alive, descendants, wait_until
from tests.leaderboard.factories import make_user

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
Status = Submission.Status
FINISHED = {Status.SCORED, Status.FAILED}
SHARD_SIZE = 200
HOST = socket.gethostname()


@pytest.fixture
def sharded_settings(settings, shard_dir) -> dict[str, str]:
    """This process and the workers agree: sets of 100+ images go in shards of 200."""
    settings.SCORING_SHARD_MIN_IMAGES, settings.SCORING_SHARD_SIZE = 100, SHARD_SIZE
    return {
        "SCORING_SHARD_MIN_IMAGES": "100",
        "SCORING_SHARD_SIZE": str(SHARD_SIZE),
        "SCORING_SHARD_DIR": str(shard_dir),
        "FLEET_HEARTBEAT_S": "1",
        "CELERY_RESULT_EXPIRES": "600",
        "INSIGHTS_TIMEOUT_S": "0",
    }


def start_workers(workers, names: dict[str, dict[str, str]]) -> dict[str, Child]:
    """Start workers named ``-n <name>@%h`` together, then wait until each is ready."""
    started = {}
    for name, env in names.items():
        argv = processes.celery_worker_argv(queues=[workers.queue], name=f"{name}@%h")
        log = workers.logs / f"{name}.log"
        child = processes.spawn(name=name, argv=argv, env={**workers.env, **env}, log=log)
        workers.started.append(child)  # the fixture stops it, whatever happens
        started[name] = child
    for name, child in started.items():
        processes.wait_for_log(workers.logs / f"{name}.log", " ready.", timeout_s=120, alive=child)
    return started


def single_worker_score(submission: Submission) -> dict:
    """What one worker computes for the whole set: the same function the unsharded task runs."""
    return score(
        dataset_dir=submission.edition.challenge.dataset_dir,
        model_path=Path(submission.file.path),
        memory_mb=None,
    )


def assert_same_score(recorded: dict, whole: dict) -> None:
    """Counts, confusion matrices, intervals and per-class accuracy: all equal."""
    for key in ("n_images", "top1_correct", "top5_correct", "top1_error", "top5_error", "ci95"):
        assert recorded[key] == whole[key], key
    for key in ("public", "private", "confusion_matrix", "public_confusion_matrix"):
        assert recorded[key] == whole[key], key
    assert recorded["per_class_accuracy"] == whole["per_class_accuracy"]
    assert recorded["model_sha256"] == whole["model_sha256"]


@pytest.fixture
def client(transactional_db) -> Client:
    make_user("kim")
    client = Client()
    assert client.login(username="kim", password=PASSWORD)
    return client


def test_shards_on_two_workers_merge_to_the_single_worker_score(
    workers, digits_edition, resnet_onnx, client, sharded_settings
):
    start_workers(workers, {"w1": sharded_settings, "w2": sharded_settings})
    submission = upload(client=client, edition=digits_edition, model=resnet_onnx, method="r18")

    seen_busy = set()  # heartbeats written at task start: who ran which shard
    deadline = time.monotonic() + 300
    while submission.status not in FINISHED and time.monotonic() < deadline:
        seen_busy |= set(
            WorkerHeartbeat.objects.filter(
                submission_id=submission.pk, task="score_shard"
            ).values_list("name", "shard_index")
        )
        time.sleep(0.05)
        submission.refresh_from_db()
    assert submission.status == Status.SCORED, submission.error_message
    assert submission.attempts == 1

    rows = list(ScoringShard.objects.filter(submission=submission).order_by("index"))
    assert [(r.start, r.stop) for r in rows] == [(0, 200), (200, 400), (400, 600), (600, 797)]
    assert {(r.status, r.claims) for r in rows} == {(ScoringShard.Status.DONE, 1)}
    assert {r.worker for r in rows} == {f"w1@{HOST}", f"w2@{HOST}"}  # both took shards
    assert seen_busy, "no heartbeat showed a worker busy with a shard"
    assert {name for name, _index in seen_busy} <= {f"w1@{HOST}", f"w2@{HOST}"}

    def merged_by_the_chord() -> bool:  # the callback's log line follows the row's update
        logs = "".join(workers.log(child) for child in workers.started)
        return "leaderboard.tasks.merge_shards" in logs and "'scored'" in logs

    wait_until(merged_by_the_chord, timeout_s=30, what="the chord's callback logging its merge")
    assert Score.objects.filter(submission=submission).count() == 1
    record = submission.score.record
    assert_same_score(record, single_worker_score(submission))
    assert [s["index"] for s in record["shards"]] == [0, 1, 2, 3]
    assert not (Path(sharded_settings["SCORING_SHARD_DIR"]) / str(submission.pk)).exists()

    beats = {row.name: row for row in WorkerHeartbeat.objects.all()}
    assert {f"w1@{HOST}", f"w2@{HOST}"} <= set(beats)
    assert beats[f"w1@{HOST}"].queues == workers.queue and beats[f"w1@{HOST}"].device


def test_a_worker_killed_mid_shard_leaves_the_submission_scored_exactly_once(
    workers, digits_edition, resnet_onnx, client, sharded_settings
):
    # The doomed worker scores one image per forward pass, so its shard lasts a while.
    started = start_workers(
        workers,
        {"doomed": {**sharded_settings, "SCORING_BATCH_SIZE": "1"}, "w2": sharded_settings},
    )
    doomed = started["doomed"]
    submission = upload(client=client, edition=digits_edition, model=resnet_onnx, method="r18")

    def doomed_shard() -> ScoringShard | None:
        return ScoringShard.objects.filter(
            submission=submission, worker=f"doomed@{HOST}", status=ScoringShard.Status.RUNNING
        ).first()

    lost = wait_until(doomed_shard, timeout_s=240, what="a shard running on the doomed worker")
    model_processes = wait_until(
        lambda: descendants(doomed.pid, depth=2), timeout_s=60, what="its model process"
    )
    processes.kill(doomed)  # SIGKILL to the whole worker: a node lost mid-shard
    wait_until(
        lambda: not any(alive(pid) for pid in model_processes),
        timeout_s=30,
        what="the model's process dying with its worker",
    )

    others = ScoringShard.objects.filter(submission=submission).exclude(pk=lost.pk)
    wait_until(
        lambda: others.filter(status=ScoringShard.Status.DONE).count() == 3,
        timeout_s=300,
        what="the other shards done by the surviving worker",
    )
    lost.refresh_from_db()
    submission.refresh_from_db()
    assert (lost.status, lost.claims) == (ScoringShard.Status.RUNNING, 1)
    assert submission.status == Status.RUNNING  # the chord waits for the lost shard

    # The sweeper's run after the shard's deadline: only that shard is sent again.
    report = sharding.shard_sweep(now=lost.deadline + dt.timedelta(seconds=1))
    assert report.resent == [f"{submission.pk}:1:{lost.index}"]

    submission = wait_for_status(submission, FINISHED, timeout_s=300)
    assert submission.status == Status.SCORED, submission.error_message
    assert submission.attempts == 1  # the other shards were not scored again
    lost.refresh_from_db()
    assert (lost.status, lost.claims, lost.worker) == (
        ScoringShard.Status.DONE,
        2,
        f"w2@{HOST}",
    )
    assert Score.objects.filter(submission=submission).count() == 1
    assert_same_score(submission.score.record, single_worker_score(submission))

    # A late merge (the lost shard's chord, had it ever completed) changes nothing.
    assert merge_shards.apply(args=[str(submission.pk), 1]).get() == "skipped"
    assert Score.objects.filter(submission=submission).count() == 1
