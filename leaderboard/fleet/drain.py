"""The drain benchmark: N queued submissions of a tiny model, drained by K real workers.

For each K, the same N submissions (rows in the configured database, one shared model file)
are queued on a queue of the benchmark's own, K worker processes are started with the
production command line and the configured database and broker, and the clock runs from the
first message sent to the last submission finished. Every scoring is a real one: the sandboxed
child, the trusted parent's metrics, the conditional updates. Everything it creates is removed
afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from leaderboard import processes, services
from leaderboard.celery import app
from leaderboard.evaluation.bench import tiny_onnx
from leaderboard.evaluation.datasets import InputSpec
from leaderboard.models import Challenge, Edition, Submission

SLUG = "bench-drain"
SCORE_TASK = "leaderboard.tasks.score_submission"
FINISHED = (Submission.Status.SCORED, Submission.Status.FAILED)
IMAGES, SIZE, CLASSES = 64, 8, 4


@dataclass(frozen=True)
class DrainRun:
    workers: int
    submissions: int
    seconds: float  # first message sent -> last submission finished
    scored: int
    failed: int
    median_scoring_s: float  # started -> finished, per submission

    @property
    def per_minute(self) -> float:
        return 60 * self.submissions / self.seconds


def drain(
    *,
    submissions: int,
    worker_counts: list[int],
    worker_env: Mapping[str, str],
    logs: Path,
    timeout_s: float = 6 * 3600,
    say: Callable[[str], None] = print,
) -> list[DrainRun]:
    """Run the benchmark once per worker count; returns one DrainRun each."""
    edition, model_name = _setup()
    try:
        runs = []
        for count in worker_counts:
            run = _drain_once(
                edition=edition,
                model_name=model_name,
                submissions=submissions,
                workers=count,
                worker_env=worker_env,
                logs=logs,
                timeout_s=timeout_s,
                say=say,
            )
            say(
                f"{count} worker(s): {submissions} submissions in {run.seconds:.1f} s = "
                f"{run.per_minute:.1f} per minute (median scoring {run.median_scoring_s:.2f} s, "
                f"{run.failed} failed)"
            )
            runs.append(run)
        return runs
    finally:
        _teardown()


def worker_env_from(environ: Mapping[str, str]) -> dict[str, str]:
    """The workers' environment: this process's (database, broker, roots) minus insights."""
    env = dict(environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    env |= {"INSIGHTS_TIMEOUT_S": "0", "SCORING_SHARD_MIN_IMAGES": "0", "PYTHONUNBUFFERED": "1"}
    return env


def _drain_once(
    *,
    edition: Edition,
    model_name: str,
    submissions: int,
    workers: int,
    worker_env: Mapping[str, str],
    logs: Path,
    timeout_s: float,
    say: Callable[[str], None],
) -> DrainRun:
    queue = f"drain-{uuid.uuid4().hex[:10]}"
    started = []
    try:
        env = {**worker_env, "SCORING_QUEUE": queue}
        for i in range(workers):
            argv = processes.celery_worker_argv(queues=[queue], name=f"drain{i + 1}@%h")
            log = logs / f"drain-{workers}-{i + 1}.log"
            started.append(processes.spawn(name=f"drain{i + 1}", argv=argv, env=env, log=log))
        for i, child in enumerate(started):
            processes.wait_for_log(
                logs / f"drain-{workers}-{i + 1}.log", " ready.", timeout_s=300, alive=child
            )
        ids = _queued_rows(edition=edition, model_name=model_name, n=submissions)
        say(f"{workers} worker(s) ready; sending {submissions} submissions to {queue}")
        t0 = timezone.now()
        with app.connection_for_write() as connection:
            for pk in ids:
                app.send_task(SCORE_TASK, args=[str(pk)], queue=queue, connection=connection)
        rows = Submission.objects.filter(pk__in=ids)
        deadline = time.monotonic() + timeout_s
        while rows.filter(status__in=FINISHED).count() < len(ids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{workers} worker(s) did not drain {len(ids)} in time")
            time.sleep(0.5)
        return _summary(rows=rows, workers=workers, t0=t0)
    finally:
        for child in started:
            processes.stop(child, grace_s=30)
        Submission.objects.filter(edition=edition).delete()
        _delete_queue(queue)


def _summary(*, rows, workers: int, t0: dt.datetime) -> DrainRun:
    last = max(rows.values_list("finished_at", flat=True))
    by_status = dict(rows.order_by().values_list("status").annotate(n=Count("pk")))
    durations = [
        (finished - started).total_seconds()
        for started, finished in rows.values_list("started_at", "finished_at")
    ]
    return DrainRun(
        workers=workers,
        submissions=rows.count(),
        seconds=(last - t0).total_seconds(),
        scored=by_status.get(Submission.Status.SCORED, 0),
        failed=by_status.get(Submission.Status.FAILED, 0),
        median_scoring_s=statistics.median(durations),
    )


def _queued_rows(*, edition: Edition, model_name: str, n: int) -> list[uuid.UUID]:
    """n queued baseline submissions sharing one stored model file (written once)."""
    now = timezone.now()
    rows = [
        Submission(
            edition=edition,
            is_baseline=True,
            method_name=f"drain {i}",
            file=model_name,
            format="onnx",
            size_bytes=1,
            created_at=now,
        )
        for i in range(n)
    ]
    return [row.pk for row in Submission.objects.bulk_create(rows, batch_size=500)]


def _setup() -> tuple[Edition, str]:
    """A challenge with 64 random 8x8 images (4 classes) and a flatten + linear ONNX model."""
    _teardown()
    source = Path(tempfile.mkdtemp(prefix="drain-"))
    try:
        rng = np.random.default_rng(0)
        np.savez(
            source / "test.npz",
            images=rng.integers(0, 256, size=(IMAGES, SIZE, SIZE), dtype=np.uint8),
            labels=np.arange(IMAGES, dtype=np.int64) % CLASSES,
        )
        challenge = Challenge.objects.create(slug=SLUG, title="Drain benchmark")
        services.challenge_import_dataset(
            challenge=challenge,
            fmt="npz",
            source=source,
            spec=InputSpec(channels=1, height=SIZE, width=SIZE),
        )
    finally:
        shutil.rmtree(source, ignore_errors=True)
    now = timezone.now()
    edition = Edition.objects.create(
        challenge=challenge,
        year=now.year,
        slug=str(now.year),
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=1),
    )
    model_name = f"{SLUG}/linear.onnx"
    path = Path(settings.MEDIA_ROOT) / model_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiny_onnx(size=SIZE, classes=CLASSES))
    return edition, model_name


def _teardown() -> None:
    challenge = Challenge.objects.filter(slug=SLUG).first()
    if challenge is not None:
        dataset = challenge.dataset_dir
        challenge.delete()
        if dataset is not None and dataset != Path(settings.DATA_ROOT):
            shutil.rmtree(dataset, ignore_errors=True)
    shutil.rmtree(Path(settings.MEDIA_ROOT) / SLUG, ignore_errors=True)


def _delete_queue(queue: str) -> None:
    """Drop the benchmark's queue and kombu's binding record for it (Redis)."""
    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete(queue)
    if app.conf.broker_url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(app.conf.broker_url)
        for key in client.scan_iter(match=f"_kombu.binding*{queue}*"):
            client.delete(key)


def cores() -> int:
    return len(os.sched_getaffinity(0))
