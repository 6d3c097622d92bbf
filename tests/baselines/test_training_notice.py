"""The board while the baselines are on their way: which network trains, at which epoch, how
long is left; then how many are being scored. Gone once cleared, or when nobody updated it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from baselines import catalogue
from baselines.train import train
from leaderboard.baseline_progress import STALE_AFTER_S, progress_path, progress_update
from leaderboard.models import Submission
from leaderboard.services import baselines as service
from tests.leaderboard.factories import make_challenge, make_edition


@pytest.fixture
def edition(db, settings, tmp_path: Path):
    settings.VAR_DIR = tmp_path / "var"
    return make_edition(challenge=make_challenge(slug="fm", title="Fashion"), year=2026)


def _text(client, url: str) -> str:
    html = client.get(url).content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_real_training_run_shows_its_network_epoch_and_time_left(
    client, edition, digits_data
) -> None:
    """The service's callback, fed by the real training loop (two of three epochs done)."""
    lenet = catalogue.get("lenet5")
    train(
        arch=lenet.arch,
        data=digits_data,
        recipe=lenet.recipe.with_overrides(epochs=3, train_limit=200),
        stop_after=2,
        progress=False,
        threads=1,
        on_epoch=service.baseline_training_started(edition=edition, baseline=lenet),
    )
    for url in (edition.get_absolute_url(), edition.challenge.get_absolute_url()):
        text = _text(client, url)
        assert "Training the baselines" in text
        assert re.search(r"LeNet-5 : epoch 3 of 3, (under a minute|about \d+ min) left", text)
    service.baseline_training_finished(edition=edition)
    assert not progress_path(edition_id=edition.pk).exists()
    for url in (edition.get_absolute_url(), edition.challenge.get_absolute_url()):
        assert "Training the baselines" not in _text(client, url)


def test_before_the_first_epoch_it_says_when_the_time_is_known(client, edition) -> None:
    progress_update(
        edition_id=edition.pk, arch="baseline-mlp", method_name="MLP", done=0, epochs=60, seconds=0
    )
    text = _text(client, edition.get_absolute_url())
    assert "MLP : epoch 1 of 60, time left known after the first epoch" in text


def test_the_time_left_is_the_mean_epoch_times_the_epochs_to_go(client, edition) -> None:
    progress_update(
        edition_id=edition.pk,
        arch="baseline-vgg11",
        method_name="VGG",
        done=5,
        epochs=15,
        seconds=1500.0,
    )  # 300 s an epoch, 10 to go: 50 minutes
    assert "VGG : epoch 6 of 15, about 50 min left" in _text(client, edition.get_absolute_url())


def test_a_record_nobody_updated_for_ten_minutes_is_not_shown(client, edition) -> None:
    old = timezone.now() - dt.timedelta(seconds=STALE_AFTER_S + 1)
    progress_update(
        edition_id=edition.pk,
        arch="baseline-mlp",
        method_name="MLP",
        done=3,
        epochs=60,
        seconds=30,
        now=old,
    )
    assert "Training the baselines" not in _text(client, edition.get_absolute_url())


def test_baselines_waiting_for_the_worker_are_counted(client, edition) -> None:
    for status in (Submission.Status.QUEUED, Submission.Status.RUNNING):
        Submission.objects.create(
            edition=edition, is_baseline=True, method_name=f"net {status}", status=status
        )
    text = _text(client, edition.get_absolute_url())
    assert "Scoring 2 baselines on the hidden test set" in text
    Submission.objects.filter(edition=edition).update(status=Submission.Status.SCORED)
    assert "Scoring" not in _text(client, edition.get_absolute_url())
