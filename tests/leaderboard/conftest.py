"""Fixtures for the site tests: own file roots, a small compiled set, the real Redis queue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import redis

from leaderboard.celery import app as celery_app

from .factories import make_challenge, make_edition, make_user


@pytest.fixture(autouse=True)
def file_roots(settings, tmp_path: Path) -> Path:
    """Uploads, media and data sets of each test go to its own temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    settings.DATA_ROOT = tmp_path / "data"
    for path in (settings.MEDIA_ROOT, settings.FILE_UPLOAD_TEMP_DIR, settings.DATA_ROOT):
        Path(path).mkdir(parents=True)
    return tmp_path


@pytest.fixture
def gpu_queue():
    """The broker's real "gpu" queue (a Redis list), emptied before and after the test."""
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    client.delete("gpu")
    yield client
    client.delete("gpu")


def queued_ids(
    client: redis.Redis, *, task: str = "leaderboard.tasks.score_submission"
) -> list[str]:
    """Submission ids of the ``task`` messages now waiting in the "gpu" queue (the scoring
    queue also carries the robustness track's runs, ``score_robustness``)."""
    import json

    ids = []
    for raw in client.lrange("gpu", 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] in (
            "leaderboard.tasks.score_submission",
            "leaderboard.tasks.score_robustness",
        )
        if message["headers"]["task"] == task:
            ids.append(message["headers"]["argsrepr"].strip("[]()',\" "))
    return ids


@pytest.fixture
def user(db):
    return make_user("alice")


@pytest.fixture
def challenge(db):
    return make_challenge()


@pytest.fixture
def edition(challenge):
    return make_edition(challenge=challenge)


@pytest.fixture
def compiled_challenge(db, settings, tmp_path: Path):
    """A challenge with a real compiled hidden set: 40 random 1x8x8 images, 4 classes."""
    from evaluator.spec import InputSpec
    from leaderboard import services

    rng = np.random.default_rng(0)
    source = tmp_path / "source"
    source.mkdir()
    for split, n in (("test", 40), ("train", 40)):
        images = rng.integers(0, 256, size=(n, 8, 8), dtype=np.uint8)
        labels = np.arange(n, dtype=np.int64) % 4
        np.savez(source / f"{split}.npz", images=images, labels=labels)
    challenge = make_challenge(slug="tiny", title="Tiny")
    services.challenge_import_dataset(
        challenge=challenge,
        fmt="npz",
        source=source,
        spec=InputSpec(channels=1, height=8, width=8),
        train_source=source,
    )
    return challenge


@pytest.fixture
def robust_challenge(compiled_challenge, tmp_path: Path):
    """The tiny compiled challenge with training-split samples and the track turned on."""
    from leaderboard import services
    from leaderboard.models import Challenge
    from leaderboard.services.robustness import challenge_robustness_enable

    services.challenge_samples_from_training(
        challenge=compiled_challenge, fmt="npz", source=tmp_path / "source"
    )
    challenge_robustness_enable(challenge=compiled_challenge)
    return Challenge.objects.get(pk=compiled_challenge.pk)
