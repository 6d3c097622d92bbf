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


def test_at_the_start_it_says_the_time_left_is_being_estimated(client, edition) -> None:
    progress_update(
        edition_id=edition.pk, arch="baseline-mlp", method_name="MLP", done=0, epochs=60, seconds=0
    )
    text = _text(client, edition.get_absolute_url())
    assert "MLP : epoch 1 of 60, estimating the time left" in text


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


def test_within_an_epoch_the_progress_moves_on(monkeypatch, digits_data) -> None:
    """A slow epoch (a deep network on a CPU) still updates the record, so it never looks
    stale while the run is alive: the trainer reports the part of the epoch done."""
    import baselines.train as training

    monkeypatch.setattr(training, "TICK_S", 0.0)  # every step, instead of every 30 s
    calls: list[tuple[float, int, float]] = []
    mlp = catalogue.get("mlp")
    train(
        arch=mlp.arch,
        data=digits_data,
        recipe=mlp.recipe.with_overrides(epochs=2, train_limit=100, batch_size=20),
        progress=False,
        threads=1,
        on_epoch=lambda done, epochs, seconds: calls.append((done, epochs, seconds)),
    )
    done = [call[0] for call in calls]
    assert done[0] == 0 and done[-1] == 2 and 1 in done
    assert any(0 < d < 1 for d in done) and any(1 < d < 2 for d in done)
    assert done == sorted(done) and all(call[1] == 2 for call in calls)
    assert [call[2] for call in calls] == sorted(call[2] for call in calls)


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
