"""Real Celery workers as separate processes, on the real Redis and the real PostgreSQL.

A worker sees only committed rows, so these tests use ``transactional_db`` and hand the worker
the test database's own URL. Each test sends to a queue of its own in Redis database 14: the
unit tests (database 15), a developer's worker and a parallel run never take its messages.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
import redis
from django.db import connection

from evaluator.spec import InputSpec
from leaderboard import processes, services
from leaderboard.celery import app as celery_app
from leaderboard.models import Edition
from leaderboard.processes import Child

from ..factories import make_challenge, make_edition

REDIS_URL = "redis://127.0.0.1:6379/14"
WORKER_READY_TIMEOUT_S = 90
# 28x28 greyscale with statistics that are not the defaults, so normalisation is exercised.
SPEC = InputSpec(channels=1, height=28, width=28, mean=(0.3,), std=(0.4,))


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name>)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def scoring_queue(settings, monkeypatch) -> Iterator[str]:
    """A queue name no one else uses; this process sends there, on the test's Redis database."""
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    settings.SCORING_QUEUE = name
    monkeypatch.setitem(celery_app.conf, "broker_url", REDIS_URL)
    yield name
    purge_queue(name)


def purge_queue(name: str) -> None:
    """Drop the queue, its binding and any unacknowledged message a killed worker left."""
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{name}*"):  # the list and kombu's binding records
        client.delete(key)
    for tag, raw in client.hgetall("unacked").items():
        try:
            _message, _exchange, routing_key = json.loads(raw)
        except (ValueError, TypeError):
            continue
        if routing_key == name:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


class Workers:
    """Starts workers for one test with its database, queue and file roots; stops them all."""

    def __init__(self, *, env: dict[str, str], logs: Path, queue: str) -> None:
        self.env = env
        self.logs = logs
        self.queue = queue
        self.started: list[Child] = []

    def start(self, name: str, **overrides: str) -> Child:
        log = self.logs / f"{name}.log"
        argv = processes.celery_worker_argv(queues=[self.queue], name=f"{name}@e2e")
        child = processes.spawn(name=name, argv=argv, env={**self.env, **overrides}, log=log)
        self.started.append(child)
        processes.wait_for_log(log, " ready.", timeout_s=WORKER_READY_TIMEOUT_S, alive=child)
        return child

    def log(self, child: Child) -> str:
        return (self.logs / f"{child.name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for child in self.started:
            processes.stop(child, grace_s=20)


@pytest.fixture
def workers(transactional_db, settings, scoring_queue, tmp_path) -> Iterator[Workers]:
    """Worker processes sharing this test's database, queue, media and data directories."""
    logs = tmp_path / "worker-logs"
    logs.mkdir()
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env |= {
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "SCORING_QUEUE": scoring_queue,
        "NOTIFICATIONS_QUEUE": scoring_queue,  # a score's notification too: consumed, purged
        "LEADERBOARD_VAR_DIR": str(tmp_path / "worker-var"),
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LEADERBOARD_DATA_ROOT": str(settings.DATA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    pool = Workers(env=env, logs=logs, queue=scoring_queue)
    try:
        yield pool
    finally:
        pool.stop_all()  # before pytest-django empties the tables the workers write to


def digits_source(folder: Path) -> Path:
    """scikit-learn's 1,797 bundled digits: 1,000 to train on, 797 as the hidden set."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.clip(digits.images * 16, 0, 255).astype(np.uint8)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "train.npz", images=images[order[:1000]], labels=labels[order[:1000]])
    np.savez(folder / "test.npz", images=images[order[1000:]], labels=labels[order[1000:]])
    return folder


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> Path:
    return digits_source(tmp_path_factory.mktemp("digits"))


@pytest.fixture
def digits_edition(transactional_db, digits_dir) -> Edition:
    """An open edition of a challenge whose hidden set is the compiled digits test split."""
    challenge = make_challenge(slug="digits", title="Digits", primary_metric="top5")
    services.challenge_import_dataset(
        challenge=challenge, fmt="npz", source=digits_dir, spec=SPEC, public_fraction=0.5, seed=3
    )
    return make_edition(challenge=challenge, max_upload_mb=100)


@pytest.fixture(scope="session")
def resnet_onnx(tmp_path_factory, digits_dir) -> Path:
    """torchvision's ResNet-18 (1 input channel, 10 classes, random convolutions) as ONNX.

    Its last layer is fitted to the training digits in closed form (ridge regression on the
    random features), so predictions differ from image to image and top-1 and top-5 differ.
    """
    import torch
    import torchvision

    from evaluator.datasets import load_training_split

    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    model.eval()
    images, labels = load_training_split(fmt="npz", source=digits_dir, spec=SPEC)
    x = normalised(images, mean=SPEC.mean, std=SPEC.std)
    head = model.fc
    model.fc = torch.nn.Identity()
    with torch.no_grad():
        features = model(torch.from_numpy(x)).double()
        features = torch.cat([features, torch.ones(len(features), 1, dtype=torch.float64)], 1)
        targets = torch.nn.functional.one_hot(torch.from_numpy(labels), 10).double()
        gram = features.T @ features + 1e-2 * torch.eye(features.shape[1], dtype=torch.float64)
        weights = torch.linalg.solve(gram, features.T @ targets)
        head.weight.copy_(weights[:-1].T.float())
        head.bias.copy_(weights[-1].float())
    model.fc = head
    path = tmp_path_factory.mktemp("models") / "resnet18.onnx"
    torch.onnx.export(
        model,
        (torch.zeros(2, 1, 28, 28),),
        str(path),
        dynamo=False,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
    )
    return path


def normalised(images: np.ndarray, *, mean: tuple, std: tuple) -> np.ndarray:
    """uint8 (N, C, H, W) -> float32 ((x / 255) - mean) / std, per channel."""
    m = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
    s = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
    return ((images.astype(np.float32) / 255.0 - m) / s).astype(np.float32)
