"""Training on scikit-learn's digits: it learns, and a resumed run equals an unbroken one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from baselines.data import TrainingData, augment
from baselines.recipes import Recipe
from baselines.train import learning_rate, train

SHORT = Recipe(epochs=4, batch_size=64, lr=0.05, warmup_epochs=0.5, val_size=300)


@pytest.mark.parametrize(
    ("arch", "recipe"),
    [
        ("baseline-mlp", SHORT.with_overrides(lr=0.5, weight_decay=0.0, shift=0, epochs=6)),
        ("baseline-lenet5", SHORT),
    ],
)
def test_short_run_beats_chance_widely(
    arch: str, recipe: Recipe, digits_data: TrainingData
) -> None:
    result = train(arch=arch, data=digits_data, recipe=recipe, progress=False)
    assert result.finished
    assert len(result.history) == recipe.epochs
    assert result.val_accuracy is not None and result.val_accuracy > 0.8  # chance: 0.1
    assert not result.model.training


def test_resume_gives_the_uninterrupted_result(digits_data: TrainingData, tmp_path: Path) -> None:
    recipe = SHORT.with_overrides(epochs=2)
    whole = train(arch="baseline-lenet5", data=digits_data, recipe=recipe, progress=False)
    path = tmp_path / "checkpoint.pt"
    first = train(
        arch="baseline-lenet5",
        data=digits_data,
        recipe=recipe,
        checkpoint_path=path,
        stop_after=1,
        progress=False,
    )
    assert not first.finished and path.is_file()
    resumed = train(
        arch="baseline-lenet5",
        data=digits_data,
        recipe=recipe,
        checkpoint_path=path,
        progress=False,
    )
    assert resumed.finished
    expected, found = whole.model.state_dict(), resumed.model.state_dict()
    assert expected.keys() == found.keys()
    for key in expected:
        assert torch.equal(expected[key], found[key]), key
    assert [h["val_acc"] for h in resumed.history] == [h["val_acc"] for h in whole.history]


def test_a_checkpoint_of_another_recipe_is_not_resumed(
    digits_data: TrainingData, tmp_path: Path
) -> None:
    path = tmp_path / "checkpoint.pt"
    recipe = SHORT.with_overrides(epochs=1)
    train(
        arch="baseline-mlp", data=digits_data, recipe=recipe, checkpoint_path=path, progress=False
    )
    other = train(
        arch="baseline-mlp",
        data=digits_data,
        recipe=recipe.with_overrides(seed=1),
        checkpoint_path=path,
        stop_after=0,
        progress=False,
    )
    assert other.history == []  # started afresh, not from the other recipe's epoch


def test_augment_shifts_whole_images_and_is_seeded() -> None:
    batch = torch.arange(2 * 1 * 6 * 6, dtype=torch.uint8).reshape(2, 1, 6, 6)
    one = augment(batch, shift=2, hflip=True, generator=torch.Generator().manual_seed(3))
    two = augment(batch, shift=2, hflip=True, generator=torch.Generator().manual_seed(3))
    assert torch.equal(one, two)
    assert one.shape == batch.shape
    unchanged = augment(batch, shift=0, hflip=False, generator=torch.Generator())
    assert torch.equal(unchanged, batch)
    # A shifted image is the original moved: its non-zero pixels are a subset of the original's.
    for image, original in zip(one, batch, strict=True):
        assert set(image.flatten().tolist()) - {0} <= set(original.flatten().tolist())


def test_learning_rate_warms_up_then_decays_to_zero() -> None:
    recipe = Recipe(epochs=10, lr=0.1, warmup_epochs=1)
    rates = [learning_rate(recipe=recipe, step=s, steps_per_epoch=10) for s in range(100)]
    assert rates[0] == pytest.approx(0.01)
    assert max(rates) == pytest.approx(0.1)
    assert rates[-1] < 1e-3
    assert rates[10:] == sorted(rates[10:], reverse=True)


def test_progress_into_a_pipe_is_one_line_per_epoch(
    digits_data: TrainingData, capsys: pytest.CaptureFixture[str]
) -> None:
    """make run reads the output through a pipe: no bar redraws there, an epoch per line."""
    recipe = SHORT.with_overrides(epochs=2)
    result = train(arch="baseline-mlp", data=digits_data, recipe=recipe, progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" loss")[0] for line in lines] == [
        "baseline-mlp: epoch 1/2",
        "baseline-mlp: epoch 2/2",
    ]
    assert "\r" not in "".join(lines)
    assert f"val_acc {result.history[-1]['val_acc']:.4f}" in lines[-1]
