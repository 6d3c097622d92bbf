"""seed_baselines: entries go through the submission service once, however often it runs."""

from __future__ import annotations

import io
from pathlib import Path

import torch
from django.core.management import call_command
from safetensors.torch import load_file

from evaluator.scoring import score
from leaderboard.models import Submission
from tests.leaderboard.factories import make_edition


def _seed(tmp_path: Path, *extra: str) -> str:
    out = io.StringIO()
    call_command(
        "seed_baselines",
        "--challenge=digits",
        "--model=mlp",
        "--model=lenet5",
        "--epochs=1",
        "--device=cpu",
        f"--cache-dir={tmp_path / 'cache'}",
        "--verbosity=0",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def test_seeding_twice_does_not_duplicate(
    digits_challenge, enqueued: list[str], tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first_output = _seed(tmp_path)
    entries = list(Submission.objects.filter(is_baseline=True).order_by("method_year"))
    assert [(s.method_year, s.format, s.team) for s in entries] == [
        (1998, "onnx", None),
        (2015, "onnx", None),
    ]
    assert sorted(enqueued) == sorted(str(s.pk) for s in entries)
    assert ": training on cpu" in first_output

    with django_capture_on_commit_callbacks(execute=True):
        second_output = _seed(tmp_path)
    assert Submission.objects.filter(is_baseline=True).count() == 2
    assert len(enqueued) == 2
    assert second_output.count("already has this entry") == 2
    assert ": training on" not in second_output


def test_each_networks_lines_come_in_the_order_they_happened(
    digits_challenge, enqueued: list[str], tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    """Trained side by side, each network's "training on" comes before its epochs and its
    entry after them (the workers' lines were once written only when they had finished)."""
    with django_capture_on_commit_callbacks(execute=True):
        output = _seed(tmp_path, "--epochs=2", "--verbosity=1", "--jobs=2")
    lines = output.splitlines()
    for arch in {line.split(":")[0] for line in lines if ": training on cpu (2 epochs)" in line}:
        mine = [line for line in lines if line.startswith(f"{arch}: ")]
        steps = [line.split(": ", 1)[1].split(" (")[0].split(" loss")[0] for line in mine]
        assert steps[0] == "training on cpu" and steps[1:3] == ["epoch 1/2", "epoch 2/2"]
        assert steps[-1].startswith("queued submission")
    assert output.count(": training on cpu (2 epochs)") == 2


def test_a_new_edition_reuses_the_cached_weights(
    digits_challenge, enqueued: list[str], tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _seed(tmp_path)
    make_edition(challenge=digits_challenge, year=2026)
    with django_capture_on_commit_callbacks(execute=True):
        output = _seed(tmp_path, "--edition=2026")
    assert output.count("reusing") == 2 and ": training on" not in output
    assert Submission.objects.filter(is_baseline=True, edition__year=2026).count() == 2
    assert len(enqueued) == 4


def test_a_failed_entry_is_submitted_again(
    digits_challenge, enqueued: list[str], tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _seed(tmp_path)
    Submission.objects.filter(method_year=1998).update(status=Submission.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        _seed(tmp_path)
    assert Submission.objects.filter(is_baseline=True).count() == 3
    assert len(enqueued) == 3


def test_the_stored_entry_scores_through_the_evaluator(
    digits_challenge, enqueued: list[str], tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _seed(tmp_path)
    lenet = Submission.objects.get(is_baseline=True, method_year=1998)
    assert "LeCun" in lenet.description and "validation error" in lenet.description
    result = score(dataset_dir=digits_challenge.dataset_dir, model_path=Path(lenet.file.path))
    assert result["n_images"] == 400
    assert result["top1_error"] < 0.9  # one epoch on 1,100 digits: better than chance


def test_side_by_side_training_gives_the_weights_of_one_at_a_time(
    digits_challenge, enqueued: list[str], tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    """--jobs 2 trains in two processes; the weights are exactly those of --jobs 1."""
    with django_capture_on_commit_callbacks(execute=True):
        parallel = _seed(tmp_path / "a", "--jobs=2")
    Submission.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        serial = _seed(tmp_path / "b", "--jobs=1")
    assert "2 at a time" in parallel and "at a time" not in serial
    a = sorted((tmp_path / "a" / "cache").glob("*/*.safetensors"))
    b = sorted((tmp_path / "b" / "cache").glob("*/*.safetensors"))
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 2
    for x, y in zip(a, b, strict=True):  # (the header's metadata order varies: compare tensors)
        left, right = load_file(x), load_file(y)
        assert left.keys() == right.keys()
        assert all(torch.equal(left[name], right[name]) for name in left)


def test_recipe_overrides_and_a_stop_after_an_epoch_then_a_resume(
    digits_challenge, enqueued: list[str], tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    """The command line's recipe overrides reach the training run (they were the baselines
    package's own command line before); ``--stop-after`` leaves a checkpoint to resume."""
    args = ("--model=mlp", "--epochs=2", "--lr=0.05", "--batch-size=32", "--train-limit=300")
    common = ("seed_baselines", "--challenge=digits", "--device=cpu", "--jobs=1", *args)
    cache = f"--cache-dir={tmp_path / 'cache'}"
    with django_capture_on_commit_callbacks(execute=True):
        call_command(*common, cache, "--stop-after=1", "--verbosity=0", stdout=io.StringIO())
    assert not Submission.objects.filter(is_baseline=True).exists()  # stopped: nothing entered
    with django_capture_on_commit_callbacks(execute=True):
        call_command(*common, cache, "--verbosity=0", stdout=io.StringIO())
    (entry,) = Submission.objects.filter(is_baseline=True)
    assert "2 epochs of SGD (lr 0.05, batch 32)" in entry.description
    assert enqueued == [str(entry.pk)]
