"""Shared by the model-check tests: a ten-class challenge with samples, real model files, a queue.

The hidden test set holds as many images (ten) as the public samples, so a scored run and a
check of the same file see the same batch and must give the same error message word for word.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
import torch
from torch import nn

from leaderboard import services
from leaderboard.celery import app as celery_app
from leaderboard.models import Edition
from tests.evaluator.models import export_onnx, export_torchscript

from .factories import make_challenge, make_edition

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def ten_class_challenge(folder: Path, *, slug: str = "ten", samples: bool = True):
    """A compiled 1 x 8 x 8 challenge of ten classes: ten hidden images, ten training ones."""
    from evaluator.spec import InputSpec

    rng = np.random.default_rng(0)
    source = folder / "source"
    source.mkdir(parents=True)
    for split in ("test", "train"):
        images = rng.integers(0, 256, size=(10, 8, 8), dtype=np.uint8)
        np.savez(source / f"{split}.npz", images=images, labels=np.arange(10, dtype=np.int64))
    names = folder / "names.txt"
    names.write_text("\n".join(NAMES) + "\n")
    challenge = make_challenge(slug=slug, title="Ten digits")
    services.challenge_import_dataset(
        challenge=challenge,
        fmt="npz",
        source=source,
        spec=InputSpec(channels=1, height=8, width=8),
        class_names_file=names,
        train_source=source,
    )
    if samples:
        services.challenge_samples_from_training(challenge=challenge, fmt="npz", source=source)
    return challenge


def ten_class_edition(folder: Path, **kwargs) -> Edition:
    return make_edition(challenge=ten_class_challenge(folder, **kwargs))


def linear_net(classes: int = 10) -> nn.Module:
    """A tiny torch network (flatten, linear) for 1 x 8 x 8 inputs."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, classes)).eval()


def linear_onnx(path: Path, *, classes: int = 10) -> Path:
    return export_onnx(linear_net(classes), path, example=torch.zeros(2, 1, 8, 8))


def linear_torchscript(path: Path, *, classes: int = 10) -> Path:
    """TorchScript declares no output shape: a wrong one shows only when the model runs."""
    return export_torchscript(linear_net(classes), path)


@pytest.fixture
def check_queue(settings) -> Iterator[redis.Redis]:
    """The "default" queue under a name of this test's own, on the test broker; emptied after."""
    settings.CELERY_TASK_DEFAULT_QUEUE = f"checks-test-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    yield client
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)


def queued_checks(client: redis.Redis, queue: str) -> list[str]:
    """The ids of the check_model messages waiting in ``queue``."""
    ids = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "leaderboard.tasks.check_model"
        ids.append(message["headers"]["argsrepr"].strip("[]()',\" "))
    return ids
