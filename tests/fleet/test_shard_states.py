"""Shard rows as a state machine on the real PostgreSQL and Redis: claims, merges, the sweeper.

The tasks run in this process (``apply``); what they send lands in a Redis queue of this test's
own, read back to check it. Without a result backend (as here) shards are sent as a plain group
and the last one to finish sends the merge; the chord path runs with real workers in
test_sharded_workers.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest
import redis
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from evaluator import shards
from evaluator.scoring import score
from leaderboard import services, sharding
from leaderboard.celery import app as celery_app
from leaderboard.errors import PLATFORM_ERROR
from leaderboard.models import Score, ScoringShard, Submission
from leaderboard.tasks import merge_shards, score_shard, score_submission
from tests.leaderboard.factories import make_edition, make_user, onnx_upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]
Status = Submission.Status
Shard = ScoringShard.Status
SPANS = [(0, 15), (15, 30), (30, 40)]


@pytest.fixture
def queue(settings):
    """A queue of this test's own on the test Redis; every capability queue falls back to it."""
    name = f"shards-{uuid.uuid4().hex[:12]}"
    settings.SCORING_QUEUE = name
    settings.SCORING_QUEUE_LARGE = settings.SCORING_QUEUE_CPU = ""
    settings.SCORING_SHARD_MIN_IMAGES, settings.SCORING_SHARD_SIZE = 10, 15
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    yield name
    client.delete(name)


def sent(queue: str) -> list[tuple[str, list, dict]]:
    """(task, args, kwargs) of the messages waiting in ``queue``, oldest first."""
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    found = []
    for raw in reversed(client.lrange(queue, 0, -1)):  # kombu LPUSHes, workers BRPOP
        message = json.loads(raw)
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, kwargs, _embed = json.loads(body)
        found.append((message["headers"]["task"], args, kwargs))
    client.delete(queue)
    return found


@pytest.fixture
def submission(compiled_challenge, queue) -> Submission:
    """An uploaded ONNX model on the 40-image compiled set: three shards of 15, 15 and 10."""
    edition = make_edition(challenge=compiled_challenge)
    created = services.submission_create(
        edition=edition,
        user=make_user("sam"),
        upload=onnx_upload(height=8, width=8, classes=4),
        method_name="linear",
    )
    assert [task for task, _a, _k in sent(queue)] == ["leaderboard.tasks.score_submission"]
    return created


def test_a_large_set_is_claimed_then_cut_into_shard_rows_and_sent(submission, queue):
    assert score_submission.apply(args=[str(submission.pk)]).get() == "sharded"

    submission.refresh_from_db()
    assert (submission.status, submission.attempts, submission.deadline) == (
        Status.RUNNING,
        1,
        None,  # the shards carry the deadlines now
    )
    rows = list(submission.shards.order_by("index"))
    assert [(r.start, r.stop, r.status, r.queue) for r in rows] == [
        (lo, hi, Shard.QUEUED, queue) for lo, hi in SPANS
    ]
    assert all(r.enqueued_at is not None for r in rows)
    assert sent(queue) == [
        ("leaderboard.tasks.score_shard", [str(submission.pk), 1, i], {"merge_when_complete": True})
        for i in range(3)
    ]
    # A repeated delivery of the submission's task changes nothing.
    assert score_submission.apply(args=[str(submission.pk)]).get() == "skipped"
    assert submission.shards.count() == 3


def test_shards_scored_in_any_order_merge_into_the_whole_sets_score_exactly_once(
    submission, queue, settings
):
    score_submission.apply(args=[str(submission.pk)]).get()
    sent(queue)
    key = str(submission.pk)

    assert score_shard.apply(args=[key, 1, 2], kwargs={"merge_when_complete": True}).get() == "done"
    assert score_shard.apply(args=[key, 1, 0], kwargs={"merge_when_complete": True}).get() == "done"
    assert sent(queue) == []  # shard 1 still to come: no merge yet
    assert score_shard.apply(args=[key, 1, 1], kwargs={"merge_when_complete": True}).get() == "done"
    assert sent(queue) == [("leaderboard.tasks.merge_shards", [key, 1], {})]

    assert score_shard.apply(args=[key, 1, 1]).get() == "skipped"  # a late duplicate
    assert merge_shards.apply(args=[key, 1]).get() == "scored"
    assert merge_shards.apply(args=[key, 1]).get() == "skipped"  # the chord's callback, late
    assert Score.objects.filter(submission=submission).count() == 1

    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == (Status.SCORED, 1)
    challenge = submission.edition.challenge
    whole = score(dataset_dir=challenge.dataset_dir, model_path=submission.file.path)
    record = submission.score.record
    for key_ in ("top1_correct", "top5_correct", "ci95", "confusion_matrix", "public", "private"):
        assert record[key_] == whole[key_], key_
    assert [s["index"] for s in record["shards"]] == [0, 1, 2]
    assert not (settings.SCORING_SHARD_DIR / str(submission.pk)).exists()  # files removed
    rows = submission.shards.all()
    assert {r.status for r in rows} == {Shard.DONE} and all(r.info["seconds"] for r in rows)


@pytest.fixture
def sharded(submission, queue) -> Submission:
    score_submission.apply(args=[str(submission.pk)]).get()
    sent(queue)
    return submission


def test_a_shard_is_claimed_once_and_finished_only_by_its_claim(sharded):
    key = str(sharded.pk)
    job = sharding.shard_start(submission_id=key, attempt=1, index=0, worker="w1@a")
    assert job is not None and (job.span, job.claim) == ((0, 15), 1)
    assert sharding.shard_start(submission_id=key, attempt=1, index=0, worker="w2@b") is None
    assert sharding.shard_start(submission_id=key, attempt=2, index=0, worker="w2@b") is None

    assert sharding.shard_release(job=job)  # a platform fault: back to the queue
    again = sharding.shard_start(submission_id=key, attempt=1, index=0, worker="w2@b")
    assert again is not None and again.claim == 2
    assert not sharding.shard_finish(job=job, info={})  # the first claim was taken back
    assert sharding.shard_finish(job=again, info={"seconds": 1.0})
    row = ScoringShard.objects.get(submission=sharded, index=0)
    assert (row.status, row.claims, row.worker) == (Shard.DONE, 2, "w2@b")


def test_a_shard_started_too_often_fails_its_submission_with_a_platform_error(sharded, settings):
    settings.SCORING_MAX_ATTEMPTS = 2
    key = str(sharded.pk)
    for _ in range(2):
        job = sharding.shard_start(submission_id=key, attempt=1, index=1, worker="w1@a")
        sharding.shard_release(job=job)
    assert sharding.shard_start(submission_id=key, attempt=1, index=1, worker="w1@a") is None
    sharded.refresh_from_db()
    assert (sharded.status, sharded.error_code) == (Status.FAILED, PLATFORM_ERROR)


def test_celerys_soft_time_limit_on_a_shard_hands_it_back_not_a_timeout(
    sharded, queue, monkeypatch
):
    """The evaluator's limit is the model's; Celery's firing on a shard is the platform's."""

    def hang(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(shards, "score_shard", hang)
    key = str(sharded.pk)
    assert score_shard.apply(args=[key, 1, 0]).get() == "released"
    row = ScoringShard.objects.get(submission=sharded, index=0)
    assert (row.status, row.claims, row.worker) == (Shard.QUEUED, 1, "")
    sharded.refresh_from_db()
    assert (sharded.status, sharded.error_code) == (Status.RUNNING, "")
    report = sharding.shard_sweep(now=timezone.now() + dt.timedelta(minutes=5))
    assert f"{key}:1:0" in report.resent  # sent again, within the claims bound


def test_a_model_failing_on_one_shard_fails_the_submission_once(sharded):
    key = str(sharded.pk)
    first = sharding.shard_start(submission_id=key, attempt=1, index=0, worker="w1@a")
    second = sharding.shard_start(submission_id=key, attempt=1, index=1, worker="w2@a")
    assert sharding.shard_fail(job=first, error_code="model_crashed", error_message="boom")
    assert not sharding.shard_fail(job=second, error_code="timeout", error_message="slow")
    sharded.refresh_from_db()
    assert (sharded.status, sharded.error_code, sharded.error_message) == (
        Status.FAILED,
        "model_crashed",
        "boom",
    )
    assert sharding.shard_start(submission_id=key, attempt=1, index=2, worker="w3@a") is None
    assert sharding.merge_start(submission_id=key, attempt=1) is None


def test_the_sweeper_resends_lost_and_unsent_shards_then_a_missed_merge(sharded, queue, settings):
    settings.SCORING_REQUEUE_AFTER_S = 2 * 3600  # sent shards still queued are left alone
    key = str(sharded.pk)
    lost = sharding.shard_start(submission_id=key, attempt=1, index=0, worker="gone@a")
    ScoringShard.objects.filter(submission=sharded, index=1).update(enqueued_at=None)
    row = ScoringShard.objects.get(submission=sharded, index=0)

    assert sharding.shard_sweep(now=timezone.now()).resent == []  # running, or just made
    later = row.deadline + dt.timedelta(seconds=1)
    report = sharding.shard_sweep(now=later)
    assert sorted(report.resent) == [f"{key}:1:0", f"{key}:1:1"]
    assert sorted(sent(queue)) == [
        ("leaderboard.tasks.score_shard", [key, 1, i], {"merge_when_complete": True})
        for i in (0, 1)
    ]
    row.refresh_from_db()
    assert (row.status, row.claims, row.worker) == (Shard.QUEUED, 1, "")
    assert not sharding.shard_finish(job=lost, info={})  # the lost worker cannot finish it

    for index in range(3):  # every shard done (by whichever worker), and the merge was lost
        job = sharding.shard_start(submission_id=key, attempt=1, index=index, worker="w@b")
        sharding.shard_finish(job=job, info={})
    assert sharding.shard_sweep(now=timezone.now()).merged == []  # within the grace period
    report = sharding.shard_sweep(now=timezone.now() + dt.timedelta(minutes=5))
    assert report.merged == [key]
    assert sent(queue) == [("leaderboard.tasks.merge_shards", [key, 1], {})]


def test_a_shard_queued_past_the_requeue_time_is_sent_again(sharded, queue, settings):
    key = str(sharded.pk)
    later = timezone.now() + dt.timedelta(seconds=settings.SCORING_REQUEUE_AFTER_S + 1)
    assert sorted(sharding.shard_sweep(now=later).resent) == [f"{key}:1:{i}" for i in range(3)]
    assert len(sent(queue)) == 3


def test_a_merge_that_finds_no_files_gives_the_attempt_back(sharded):
    key = str(sharded.pk)
    for index in range(3):  # done in the database, but written where the merge cannot see
        job = sharding.shard_start(submission_id=key, attempt=1, index=index, worker="w@b")
        sharding.shard_finish(job=job, info={})
    assert merge_shards.apply(args=[key, 1]).get() == "shard_missing"
    sharded.refresh_from_db()
    assert (sharded.status, sharded.attempts) == (Status.QUEUED, 1)  # the sweeper retries


def test_the_sweeper_prunes_shard_files_nobody_needs(sharded, settings):
    root = settings.SCORING_SHARD_DIR
    running = root / str(sharded.pk)
    (running / "attempt-1").mkdir(parents=True)
    (running / "attempt-0").mkdir()
    finished = root / str(uuid.uuid4())
    (finished / "attempt-1").mkdir(parents=True)
    (root / "not-a-submission").mkdir()

    report = sharding.shard_sweep(now=timezone.now() + dt.timedelta(minutes=5))
    assert sorted(report.pruned) == sorted([f"{sharded.pk}/attempt-0", finished.name])
    assert (running / "attempt-1").is_dir() and not finished.exists()
    assert (root / "not-a-submission").is_dir()
