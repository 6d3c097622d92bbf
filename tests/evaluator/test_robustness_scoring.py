"""score_robust end to end: one sandboxed run, the clean score unchanged, every copy scored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from evaluator import layout, robustness
from evaluator.cli import main as cli_main
from evaluator.datasets import open_dataset
from evaluator.errors import DatasetError
from evaluator.robustness.metrics import robustness_report_from_logits
from evaluator.robustness.scoring import score_robust
from evaluator.scoring import score
from tests.evaluator.models import example_input, export_onnx, reference_logits


@pytest.fixture(scope="module")
def small_onnx(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Path]:
    """A small convolutional network (1x28x28, 10 classes), random weights, as ONNX."""
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Conv2d(1, 4, 5, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 12 * 12, 10)
    ).eval()
    path = tmp_path_factory.mktemp("robust-model") / "small.onnx"
    return module, export_onnx(module, path, example=example_input())


def test_clean_part_is_scores_and_each_copy_matches_the_network(
    tiny_dataset: Path, small_onnx: tuple[nn.Module, Path]
) -> None:
    module, model_path = small_onnx
    result = score_robust(dataset_dir=tiny_dataset, model_path=model_path)
    plain = score(dataset_dir=tiny_dataset, model_path=model_path)
    for key in ("top1_error", "top5_error", "public", "private", "per_class_accuracy"):
        assert result[key] == plain[key]
    assert result["dataset_fingerprint"] == plain["dataset_fingerprint"]

    dataset = open_dataset(tiny_dataset)
    spec = dataset.spec
    expected = robustness_report_from_logits(
        clean_logits=reference_logits(module, dataset.images, spec),
        robust_logits={
            name: reference_logits(module, robustness.apply_numpy(name, dataset.images), spec)
            for name in robustness.NAMES
        },
        labels=dataset.labels,
        public_mask=dataset.public_mask,
        num_classes=dataset.num_classes,
    )
    robust = result["robustness"]
    assert list(robust["results"]) == list(robustness.NAMES)
    for name in robustness.NAMES:
        for part in ("all", "public", "private"):
            got, want = robust["results"][name][part], expected["results"][name][part]
            assert (got["top1_correct"], got["top5_correct"]) == (
                want["top1_correct"],
                want["top5_correct"],
            ), (name, part)
    assert robust["summary"] == expected["summary"]
    assert robust["clean"]["all"]["top1_error"] == result["top1_error"]
    timing = robust["timing"]
    assert timing["clean_seconds"] > 0 and timing["robust_seconds"] > 0
    assert set(timing["per_transform_seconds"]) == set(robustness.NAMES)
    assert (
        robust["fingerprint"]
        == json.loads((layout.robust_dir(tiny_dataset) / "meta.json").read_text())["fingerprint"]
    )
    assert robust["n_nonfinite"] == dict.fromkeys(robustness.NAMES, 0)
    # One run scored the clean set and every copy: the parent's rate counts all of them.
    images = dataset.n * (1 + len(robustness.NAMES))
    assert result["throughput_img_s"] == pytest.approx(images / result["wall_seconds"])
    assert plain["throughput_img_s"] == pytest.approx(dataset.n / plain["wall_seconds"])
    json.dumps(result, allow_nan=False)  # stored as JSON in the score's record


def test_without_compiled_copies_the_host_is_told(
    tiny_dataset: Path, small_onnx: tuple[nn.Module, Path]
) -> None:
    with pytest.raises(DatasetError, match="missing"):
        score_robust(dataset_dir=tiny_dataset, model_path=small_onnx[1], compile_missing=False)


def test_command_line_compiles_and_scores(
    tiny_dataset: Path, small_onnx: tuple[nn.Module, Path], capsys
) -> None:
    assert cli_main(["robust", "--dataset", str(tiny_dataset)]) == 0
    assert "13 transformed copies" in capsys.readouterr().out
    args = ["score", "--dataset", str(tiny_dataset), "--model", str(small_onnx[1])]
    assert cli_main([*args, "--robustness", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["robustness"]["summary"]["all"]["n_transforms"] == 12
    assert cli_main([*args, "--robustness"]) == 0
    text = capsys.readouterr().out
    assert "Rotation 45°" in text and "mean over 12 corruptions (flip excluded)" in text
    assert np.isfinite(result["robustness"]["summary"]["all"]["mean_top1_error"])
