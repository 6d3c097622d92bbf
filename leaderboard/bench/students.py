"""Students for the load benchmark: accounts with API tokens, an open edition their uploads are
scored on, and a Celery worker on a queue of its own that scores them.

The edition's hidden set is tiny (40 random 8x8 images, 4 classes) and so is the model
(``tiny_onnx``), so that the worker's time goes to the platform around a run, not to the model.
Accounts are made with an unusable password (no password hashing to pay for hundreds of them)
and a token each, through the API's own ``token_create``. Locust's students read what they need
(the submit path and the tokens) from a JSON file written here: the locustfile imports nothing
of the site.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from django.utils import timezone

from leaderboard import processes, services
from leaderboard.api.tokens import token_create
from leaderboard.evaluation.bench import tiny_onnx
from leaderboard.evaluation.datasets import InputSpec
from leaderboard.models import Challenge, Edition, Submission

from .leaderboard_page import challenge_remove

TINY_SPEC = InputSpec(channels=1, height=8, width=8)


@dataclass(frozen=True)
class Students:
    """What the students' side of the benchmark needs: where to upload, as whom, what."""

    edition: Edition
    submit_path: str  # the API's upload endpoint for the edition (the CLI's ``submit``)
    tokens: list[str]
    model: bytes

    def write(self, path: Path) -> Path:
        """The JSON file that ``locustfile.Student`` reads (``$BENCH_STUDENTS``)."""
        payload = {
            "submit_path": self.submit_path,
            "tokens": self.tokens,
            "model_hex": self.model.hex(),
        }
        path.write_text(json.dumps(payload))
        return path


def tiny_edition(*, slug: str, source: Path, limit: int) -> Edition:
    """A challenge ``slug`` (replaced if present) with a compiled 40-image 8x8 hidden set and one
    edition open now that takes ``limit`` uploads per team, per day and in all."""
    challenge_remove(slug=slug)
    rng = np.random.default_rng(0)
    source.mkdir(parents=True, exist_ok=True)
    np.savez(
        source / "test.npz",
        images=rng.integers(0, 256, size=(40, 8, 8), dtype=np.uint8),
        labels=np.arange(40, dtype=np.int64) % 4,
    )
    challenge = Challenge.objects.create(slug=slug, title=f"Benchmark uploads ({slug})")
    services.challenge_import_dataset(challenge=challenge, fmt="npz", source=source, spec=TINY_SPEC)
    now = timezone.now()
    return Edition.objects.create(
        challenge=challenge,
        year=now.year,
        slug=str(now.year),
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=1),
        daily_limit=limit,
        total_limit=limit,
    )


def students_create(*, slug: str, count: int, uploads_each: int, scratch: Path) -> Students:
    """``count`` student accounts (``<slug>-NNNN``) with a token each, and their edition."""
    edition = tiny_edition(slug=slug, source=scratch / "source", limit=uploads_each)
    user_model = get_user_model()
    user_model.objects.filter(username__startswith=f"{slug}-").delete()
    users = user_model.objects.bulk_create(
        [user_model(username=f"{slug}-{i:04d}", password=make_password(None)) for i in range(count)]
    )
    tokens = [token_create(user=user).key for user in users]
    path = reverse("api:submit", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})
    model = tiny_onnx(channels=TINY_SPEC.channels, size=TINY_SPEC.height, classes=4)
    return Students(edition=edition, submit_path=path, tokens=tokens, model=model)


def students_remove(*, slug: str) -> None:
    """The students' challenge, their stored models and compiled set, and their accounts."""
    challenge = Challenge.objects.filter(slug=slug).first()
    if challenge is not None:
        for submission in Submission.objects.filter(edition__challenge=challenge).only("file"):
            submission.file.delete(save=False)
        dataset = challenge.dataset_dir
        challenge_remove(slug=slug)
        if dataset is not None:
            shutil.rmtree(dataset, ignore_errors=True)
    get_user_model().objects.filter(username__startswith=f"{slug}-").delete()


def start_worker(
    *, env: Mapping[str, str], queue: str, concurrency: int, log: Path
) -> processes.Child:
    """The production worker command on ``queue``, once it says it is ready."""
    argv = processes.celery_worker_argv(
        queues=[queue], name="bench-students@%h", concurrency=concurrency
    )
    worker_env = {**env, "PYTHONUNBUFFERED": "1"}
    worker_env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    worker = processes.spawn(name="worker", argv=argv, env=worker_env, log=log)
    processes.wait_for_log(log, " ready.", timeout_s=120, alive=worker)
    return worker


def queue_delete(*, queue: str, broker_url: str, bindings: bool = True) -> None:
    """Drop the messages waiting on the benchmark's queue in Redis and, unless told not to
    (the queue is still in use), kombu's binding records for it."""
    import redis

    client = redis.Redis.from_url(broker_url)
    client.delete(queue)
    if bindings:
        for key in client.scan_iter(match=f"_kombu.binding*{queue}"):
            client.delete(key)
