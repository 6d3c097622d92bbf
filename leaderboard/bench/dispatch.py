"""Upload-to-running latency: how soon an idle worker starts scoring a fresh upload.

A worker is started on a queue of its own (same database, broker and storage as this process),
then a tiny ONNX model is uploaded through the submit view again and again; for each upload the
time from the request to the worker's claim (``started_at``, stamped by the worker) is taken.
The next upload waits until the previous one is finished, so the worker is idle every time.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from leaderboard import processes
from leaderboard.evaluation.bench import tiny_onnx
from leaderboard.models import Challenge, Edition, Submission

from .leaderboard_page import challenge_remove
from .students import tiny_edition

SLUG = "bench-dispatch"
FINISHED = (Submission.Status.SCORED, Submission.Status.FAILED)


@dataclass(frozen=True)
class DispatchTiming:
    to_running_s: list[float]  # request start -> the worker's claim (started_at)
    request_s: list[float]  # request start -> response (store, commit, enqueue)
    to_finished_s: list[float]  # request start -> scored or failed
    statuses: list[str]

    @property
    def median_to_running_ms(self) -> float:
        return statistics.median(self.to_running_s) * 1000


def measure(*, uploads: int, say: Callable[[str], None]) -> DispatchTiming:
    """Start a worker, upload ``uploads`` times, stop the worker; everything made is removed."""
    queue = f"bench-{uuid.uuid4().hex[:10]}"
    scratch = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    user = get_user_model().objects.create_user(username=f"bench-{uuid.uuid4().hex[:8]}")
    worker = None
    try:
        edition = _edition(source=scratch / "source", uploads=uploads)
        model = scratch / "tiny.onnx"
        model.write_bytes(tiny_onnx())
        with override_settings(SCORING_QUEUE=queue):
            worker = _start_worker(queue=queue, log=scratch / "worker.log")
            say(f"worker ready on queue {queue}")
            time.sleep(1.0)  # let it settle into waiting
            client = Client(HTTP_HOST="localhost")
            client.force_login(user)
            timing = DispatchTiming([], [], [], [])
            for index in range(uploads):
                _one(client=client, edition=edition, model=model, timing=timing, index=index)
                say(
                    f"upload {index + 1}: running after "
                    f"{timing.to_running_s[-1] * 1000:.0f} ms, {timing.statuses[-1]}"
                )
                time.sleep(0.5)  # idle again before the next one
        return timing
    finally:
        if worker is not None:
            processes.stop(worker, grace_s=20)
        _delete_queue(queue)
        _remove(user=user)
        shutil.rmtree(scratch, ignore_errors=True)


def _one(*, client: Client, edition: Edition, model: Path, timing: DispatchTiming, index: int):
    url = reverse("submit", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})
    upload = SimpleUploadedFile(model.name, model.read_bytes())
    wall_start, started = time.time(), time.perf_counter()
    response = client.post(url, {"file": upload, "method_name": f"bench {index}"})
    timing.request_s.append(time.perf_counter() - started)
    if response.status_code != 302:
        raise RuntimeError(f"upload refused ({response.status_code}): {response.content[:500]!r}")
    submission = Submission.objects.filter(edition=edition).order_by("-created_at").first()
    deadline = time.monotonic() + 120
    while submission.status not in FINISHED:
        if time.monotonic() > deadline:
            raise RuntimeError(f"submission {submission.pk} still {submission.status} after 120 s")
        time.sleep(0.02)
        submission.refresh_from_db()
    timing.to_finished_s.append(time.perf_counter() - started)
    timing.to_running_s.append(submission.started_at.timestamp() - wall_start)
    timing.statuses.append(submission.status)


def _edition(*, source: Path, uploads: int) -> Edition:
    """A challenge with a tiny compiled hidden set (40 random 8x8 images, 4 classes)."""
    return tiny_edition(slug=SLUG, source=source, limit=uploads + 10)


def _start_worker(*, queue: str, log: Path) -> processes.Child:
    """The production worker command, on the benchmark's own queue."""
    argv = processes.celery_worker_argv(queues=[queue], name="bench@%h")
    env = {**os.environ, "SCORING_QUEUE": queue, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    worker = processes.spawn(name="worker", argv=argv, env=env, log=log)
    processes.wait_for_log(log, " ready.", timeout_s=120, alive=worker)
    return worker


def _delete_queue(queue: str) -> None:
    """Drop the benchmark's queue and its binding from the broker."""
    from leaderboard.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete(queue)
    if settings.CELERY_BROKER_URL.startswith("redis"):  # kombu's binding records stay behind
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        for key in client.scan_iter(match=f"_kombu.binding*{queue}"):
            client.delete(key)
    control = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("control_folder")
    if control:  # the filesystem transport keeps the queue's binding as a file
        Path(control, f"{queue}.exchange").unlink(missing_ok=True)


def _remove(*, user) -> None:
    """The benchmark's challenge, its stored models and compiled set, and its user."""
    challenge = Challenge.objects.filter(slug=SLUG).first()
    if challenge is not None:
        for submission in Submission.objects.filter(edition__challenge=challenge):
            submission.file.delete(save=False)
        dataset = challenge.dataset_dir
        challenge_remove(slug=SLUG)
        if dataset is not None:
            shutil.rmtree(dataset, ignore_errors=True)
    user.delete()
