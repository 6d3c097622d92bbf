"""The measured cost of a training epoch, kept for the networks that were not trained here: the
site shows it instead of numbers it does not have."""

from __future__ import annotations

from pathlib import Path

from baselines import catalogue, shipped
from baselines.epoch_time import RECORD, measure, record, recorded


def test_write_keeps_one_row_per_network_with_the_machine_and_reads_it_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "epoch_times.json"
    row = measure(arch="lenet5", steps=1, threads=1)
    record(row, path=path)
    record({**row, "arch": "baseline-mlp"}, path=path)
    kept = recorded("baseline-lenet5", path=path)
    assert kept["estimated_cpu_seconds_per_epoch"] == row["estimated_cpu_seconds_per_epoch"]
    assert kept["timed_steps"] == 1 and kept["machine"] and kept["measured_on"]
    assert recorded("baseline-mlp", path=path)["arch"] == "baseline-mlp"
    assert recorded("baseline-vgg11", path=path) is None
    assert recorded("baseline-lenet5", path=tmp_path / "missing.json") is None


def test_every_network_without_shipped_weights_has_a_measured_epoch() -> None:
    """What the challenge page and the README say of a network not trained here."""
    for network in catalogue.CATALOGUE:
        if shipped.get(network.arch):
            continue
        row = recorded(network.arch, path=RECORD)
        assert row is not None, f"{network.arch}: python -m baselines.epoch_time --write"
        assert row["batch_size"] == network.recipe.batch_size
        assert row["recipe_epochs"] == network.recipe.epochs
        assert row["estimated_cpu_seconds_per_epoch"] > 0 and row["timed_steps"] >= 2
