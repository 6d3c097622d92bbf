"""The staff fleet page and /api/fleet/: heartbeats, queue depths (Redis), medians (SQL)."""

from __future__ import annotations

import datetime as dt
import statistics
import uuid

import pytest
import redis
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leaderboard.api import tokens
from leaderboard.fleet import heartbeat
from leaderboard.fleet.device import DeviceFacts
from leaderboard.fleet.selectors import fleet_overview, median_duration, median_duration_by_offset
from leaderboard.models import ScoringShard, Submission, WorkerHeartbeat
from tests.leaderboard.factories import make_challenge, make_edition, make_user

pytestmark = pytest.mark.django_db
Status = Submission.Status
GPU = DeviceFacts(name="NVIDIA H200", memory_total_mb=143771, memory_used_mb=1024)


@pytest.fixture
def queues(settings):
    """Capability queues of this test's own, with messages waiting in two of them."""
    tag = uuid.uuid4().hex[:8]
    settings.SCORING_QUEUE = f"gpu-{tag}"
    settings.SCORING_QUEUE_LARGE = f"gpu-large-{tag}"
    settings.SCORING_QUEUE_CPU = f"cpu-{tag}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.lpush(settings.SCORING_QUEUE, *[b"{}"] * 3)
    client.lpush(f"{settings.SCORING_QUEUE_CPU}\x06\x163", b"{}")  # a priority step
    yield settings
    client.delete(
        settings.SCORING_QUEUE,
        f"{settings.SCORING_QUEUE_CPU}\x06\x163",
    )


def workers_at(now: dt.datetime) -> None:
    for name in ("busy@n1", "idle@n1", "silent@n2", "stopped@n2", "old@n3"):
        heartbeat.heartbeat_online(
            name=name, host=name.split("@")[1], pid=1, queues=["gpu", "gpu-large"], device=GPU
        )
    submission_id = uuid.uuid4()
    heartbeat.heartbeat_busy(
        name="busy@n1", task="score_shard", submission_id=submission_id, shard_index=3
    )
    heartbeat.heartbeat_offline(name="stopped@n2")
    rows = WorkerHeartbeat.objects
    rows.filter(name="silent@n2").update(last_seen=now - dt.timedelta(minutes=2))
    rows.filter(name="old@n3").update(last_seen=now - dt.timedelta(hours=1))


def test_workers_heard_from_recently_with_their_state_device_and_task(settings):
    now = timezone.now()
    workers_at(now)
    fleet = fleet_overview(now=now + dt.timedelta(seconds=1))
    by_name = {w.name: w for w in fleet.workers}
    assert sorted(by_name) == ["busy@n1", "idle@n1", "silent@n2", "stopped@n2"]  # not old@n3
    assert {name: w.state for name, w in by_name.items()} == {
        "busy@n1": "busy",
        "idle@n1": "idle",
        "silent@n2": "silent",
        "stopped@n2": "stopped",
    }
    busy = by_name["busy@n1"]
    assert (busy.task, busy.shard_index, busy.device) == ("score_shard", 3, "NVIDIA H200")
    assert (busy.memory_total_mb, busy.queues) == (143771, ["gpu", "gpu-large"])
    assert busy.busy_seconds is not None and busy.busy_seconds >= 0

    heartbeat.heartbeat_idle(name="busy@n1")
    assert heartbeat.heartbeat_beat(name="busy@n1", memory_used_mb=2048)
    row = WorkerHeartbeat.objects.get(name="busy@n1")
    assert (row.task, row.submission_id, row.memory_used_mb) == ("", None, 2048)


def test_queue_depths_come_from_redis_lists(queues):
    fleet = fleet_overview()
    depths = {q.name: q.depth for q in fleet.queues}
    assert depths[queues.SCORING_QUEUE] == 3
    assert depths[queues.SCORING_QUEUE_CPU] == 1  # counted across priority lists
    assert depths[queues.SCORING_QUEUE_LARGE] == 0
    assert depths["default"] >= 0 and fleet.queue_error == ""


def test_queue_depths_are_unknown_without_a_redis_broker(settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    fleet = fleet_overview()
    assert {q.depth for q in fleet.queues} == {None} and fleet.queue_error


def make_timed(*, edition, now, wait_s: float, run_s: float | None) -> Submission:
    created = now - dt.timedelta(minutes=30)
    started = created + dt.timedelta(seconds=wait_s)
    return Submission.objects.create(
        edition=edition,
        is_baseline=True,
        method_name="m",
        file="x",
        status=Status.SCORED if run_s is not None else Status.RUNNING,
        created_at=created,
        started_at=started,
        finished_at=None if run_s is None else started + dt.timedelta(seconds=run_s),
    )


def test_median_wait_and_scoring_times_over_the_last_hour_match_python(db):
    now = timezone.now()
    edition = make_edition(challenge=make_challenge())
    waits, runs = [3.0, 10.5, 1.25, 40.0, 7.0], [20.0, 5.5, 61.0, 12.0]
    for i, wait in enumerate(waits):
        make_timed(edition=edition, now=now, wait_s=wait, run_s=runs[i] if i < 4 else None)
    stale = make_timed(edition=edition, now=now - dt.timedelta(hours=3), wait_s=999, run_s=999)
    shard_submission = make_timed(edition=edition, now=now, wait_s=1, run_s=1)
    for index, (queued_s, run_s) in enumerate([(2.0, 30.0), (8.0, 10.0), (4.0, 20.0)]):
        start = now - dt.timedelta(minutes=10)
        ScoringShard.objects.create(
            submission=shard_submission,
            attempt=1,
            index=index,
            start=index,
            stop=index + 1,
            queue="gpu",
            status=ScoringShard.Status.DONE,
            enqueued_at=start - dt.timedelta(seconds=queued_s),
            started_at=start,
            finished_at=start + dt.timedelta(seconds=run_s),
        )

    fleet = fleet_overview(now=now)
    all_waits, all_runs = [*waits, 1.0], [*runs, 1.0]
    assert (fleet.wait.n, fleet.wait.median_s) == (6, pytest.approx(statistics.median(all_waits)))
    assert (fleet.scoring.n, fleet.scoring.median_s) == (
        5,
        pytest.approx(statistics.median(all_runs)),
    )
    assert (fleet.shard_wait.n, fleet.shard_wait.median_s) == (3, pytest.approx(4.0))
    assert (fleet.shard_scoring.n, fleet.shard_scoring.median_s) == (3, pytest.approx(20.0))
    assert (fleet.submissions_running, fleet.submissions_queued) == (1, 0)
    assert stale.started_at < now - dt.timedelta(hours=1)

    # PostgreSQL's percentile_cont and the portable ORDER BY ... OFFSET agree, odd and even n.
    rows = Submission.objects.filter(started_at__gte=now - dt.timedelta(hours=1))
    for subset in (rows, rows.exclude(pk=shard_submission.pk)):
        assert median_duration(subset, start="created_at", end="started_at") == (
            median_duration_by_offset(subset, start="created_at", end="started_at")
        )
    assert median_duration(rows.none(), start="created_at", end="started_at").median_s is None


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_user("ops", password="pw-for-tests-1", is_staff=True)
    return user


def test_the_staff_page_shows_workers_queues_and_times(staff, queues):
    workers_at(timezone.now())
    client = Client()
    client.force_login(staff)
    page = client.get(reverse("fleet")).content.decode()
    for text in (
        "busy@n1",
        "NVIDIA H200",
        "score_shard",
        "shard 3",
        "silent",
        queues.SCORING_QUEUE,
    ):
        assert text in page, text
    name = queues.SCORING_QUEUE
    row = f'<tr data-queue="{name}"><td><code>{name}</code></td><td class="num">3</td>'
    assert row in page
    assert "Submission wait (queued → running)" in page
    assert f'<a href="{reverse("fleet")}" id="nav-fleet">' in page  # in every page's menu


def test_the_page_and_the_api_are_for_staff_only(db, queues):
    user = make_user("student")
    client = Client()
    assert client.get(reverse("fleet")).status_code == 302  # to the admin's login
    client.force_login(user)
    assert client.get(reverse("fleet")).status_code == 302
    assert 'id="nav-fleet"' not in client.get(reverse("challenge_list")).content.decode()
    token = tokens.token_create(user=user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get("/api/fleet/")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Client().get("/api/fleet/").status_code == 401


def test_the_api_returns_the_same_data_as_json(staff, queues):
    workers_at(timezone.now())
    token = tokens.token_create(user=staff)
    data = Client(HTTP_AUTHORIZATION=f"Token {token.key}").get("/api/fleet/").json()
    assert {w["name"] for w in data["workers"]} >= {"busy@n1", "idle@n1"}
    assert {q["name"]: q["depth"] for q in data["queues"]}[queues.SCORING_QUEUE] == 3
    assert set(data["wait"]) == {"n", "median_s"}


def test_healthz_answers_when_the_database_does(db):
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True}
