"""Fixtures shared with the site's tests: own file roots per test, the compiled digits set,
real worker processes on a queue of the test's own (see tests/leaderboard/e2e/conftest.py)."""

import pytest

from tests.leaderboard.conftest import compiled_challenge, file_roots  # noqa: F401
from tests.leaderboard.e2e.conftest import (  # noqa: F401
    digits_dir,
    digits_edition,
    resnet_onnx,
    scoring_queue,
    workers,
)


@pytest.fixture(autouse=True)
def shard_dir(settings, tmp_path):
    """Shard files of each test in its own directory."""
    settings.SCORING_SHARD_DIR = tmp_path / "shards"
    return settings.SCORING_SHARD_DIR


@pytest.fixture(autouse=True)
def fresh_producer_pool():
    """Celery keeps its producer pool with the broker URL in force at the first pooled send
    (a chord or a signature sent from this process); tests that switch the URL would leave it
    pointing at another broker. Each test here starts and ends without one."""
    from leaderboard.celery import app

    def forget() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    forget()
    yield
    forget()
