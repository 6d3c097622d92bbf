"""Exported files score through the evaluator exactly as the network scores in process.

The safetensors file is loaded inside the sandbox by its registry name, which works because
the runner binds baselines/architectures next to the evaluator package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.data import Normalise, TrainingData
from baselines.export import export_onnx, export_safetensors, onnx_max_difference
from baselines.recipes import Recipe
from baselines.train import train
from evaluator import layout
from evaluator.datasets import import_dataset, open_dataset
from evaluator.formats.base import ModelFormat
from evaluator.metrics import classification_report
from evaluator.sandbox import runner
from evaluator.scoring import score

from .conftest import DIGITS_SPEC

ARCH = "baseline-lenet5"
LOGIT_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def trained(digits_data: TrainingData) -> torch.nn.Module:
    recipe = Recipe(epochs=3, batch_size=64, lr=0.05, val_size=300)
    return train(arch=ARCH, data=digits_data, recipe=recipe, progress=False).model


@pytest.fixture(scope="module")
def hidden_set(digits_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compiled") / "digits"
    import_dataset(fmt="npz", source=digits_source, out=out, spec=DIGITS_SPEC, progress=False)
    return out


@pytest.fixture(scope="module")
def in_process_logits(trained: torch.nn.Module, hidden_set: Path) -> np.ndarray:
    images = torch.from_numpy(np.array(open_dataset(hidden_set).images))
    with torch.inference_mode():
        return trained(Normalise(DIGITS_SPEC, "cpu")(images)).numpy()


def _exports(model: torch.nn.Module, folder: Path) -> dict[str, Path]:
    return {
        "onnx": export_onnx(model, folder / "model.onnx", spec=DIGITS_SPEC),
        "safetensors": export_safetensors(model, folder / "model.safetensors", arch=ARCH),
    }


@pytest.mark.parametrize("fmt", ["onnx", "safetensors"])
def test_scores_match_the_network_in_process(
    fmt: str,
    trained: torch.nn.Module,
    hidden_set: Path,
    in_process_logits: np.ndarray,
    tmp_path: Path,
) -> None:
    path = _exports(trained, tmp_path)[fmt]
    arch = ARCH if fmt == "safetensors" else None
    dataset = open_dataset(hidden_set)

    child = runner.run_model(
        model_path=path,
        fmt=ModelFormat(fmt),
        arch=arch,
        images_dir=layout.images_dir(hidden_set),
        num_classes=dataset.num_classes,
    )
    np.testing.assert_array_equal(child.logits.argmax(1), in_process_logits.argmax(1))
    np.testing.assert_allclose(child.logits, in_process_logits, atol=LOGIT_TOLERANCE, rtol=0)

    result = score(dataset_dir=hidden_set, model_path=path, arch=arch)
    expected = classification_report(
        logits=in_process_logits,
        labels=dataset.labels,
        public_mask=dataset.public_mask,
        num_classes=dataset.num_classes,
    )
    assert result["format"] == fmt
    assert result["top1_error"] == expected["top1_error"]
    assert result["top5_error"] == expected["top5_error"]
    assert result["top1_error"] < 0.3  # a trained network, not chance (0.9)


def test_safetensors_header_names_the_architecture(
    trained: torch.nn.Module, tmp_path: Path
) -> None:
    from safetensors import safe_open

    path = export_safetensors(trained, tmp_path / "m.safetensors", arch=ARCH, metadata={"y": "1"})
    with safe_open(str(path), framework="pt") as f:
        assert f.metadata() == {"arch": ARCH, "y": "1"}


def test_onnx_batch_axis_is_dynamic(trained: torch.nn.Module, tmp_path: Path) -> None:
    path = export_onnx(trained, tmp_path / "m.onnx", spec=DIGITS_SPEC)
    for n in (1, 5):
        images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8)
        assert onnx_max_difference(trained, path, images=images, spec=DIGITS_SPEC) < 1e-4
