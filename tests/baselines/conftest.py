"""Fixtures: scikit-learn's digits as a small real training split and hidden set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.data import TrainingData, prepare, read_split
from evaluator.spec import InputSpec
from leaderboard import services
from leaderboard.services import submissions as submissions_service
from tests.leaderboard.factories import make_challenge, make_edition

# Digits scaled to 28x28 by the evaluator's own transform, as the demo challenge does.
DIGITS_SPEC = InputSpec(channels=1, height=28, width=28, mean=(0.25,), std=(0.35,))
N_TEST = 400


def write_digits(folder: Path) -> Path:
    """train.npz (1,397 images) and test.npz (400), split with a fixed seed."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.clip(digits.images * 16, 0, 255).astype(np.uint8)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    test, train = order[:N_TEST], order[N_TEST:]
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "train.npz", images=images[train], labels=labels[train])
    np.savez(folder / "test.npz", images=images[test], labels=labels[test])
    return folder


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """One torch thread: these networks are tiny, and on a shared 2-core machine a second
    thread mostly waits (measured: a LeNet epoch took 6x longer with two under load)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def digits_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_digits(tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="session")
def digits_data(digits_source: Path) -> TrainingData:
    images, labels = read_split(fmt="npz", source=digits_source, spec=DIGITS_SPEC)
    return prepare(
        images=images, labels=labels, spec=DIGITS_SPEC, num_classes=10, val_size=300, seed=0
    )


@pytest.fixture
def digits_challenge(db, settings, tmp_path: Path, digits_source: Path):
    """A challenge whose hidden set and training split are the digits, with one open edition."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_ROOT = tmp_path / "data"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    for path in (settings.MEDIA_ROOT, settings.DATA_ROOT, settings.FILE_UPLOAD_TEMP_DIR):
        Path(path).mkdir(parents=True)
    challenge = make_challenge(slug="digits", title="Digits")
    services.challenge_import_dataset(
        challenge=challenge,
        fmt="npz",
        source=digits_source,
        spec=DIGITS_SPEC,
        train_source=digits_source,
    )
    make_edition(challenge=challenge, year=2025)
    return challenge


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Submission ids handed to the queue (recorded instead of sent to the broker)."""
    sent: list[str] = []

    def record(*, submission_id) -> bool:
        sent.append(str(submission_id))
        return True

    monkeypatch.setattr(submissions_service, "submission_enqueue", record)
    return sent
