"""score() on a CUDA device, through the sandbox, equals the CPU score (GPU machines only)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from evaluator.scoring import score
from tests.evaluator.conftest import write_compiled_dataset
from tests.evaluator.models import build, example_input, export_onnx, export_torchscript

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_cuda_score_matches_cpu_score(tmp_path: Path, fmt: str) -> None:
    dataset = write_compiled_dataset(tmp_path / "set", n=600, num_classes=10)
    module = build()
    path = tmp_path / f"model.{fmt}"
    if fmt == "onnx":
        export_onnx(module, path, example=example_input())
    else:
        export_torchscript(module, path)
    cpu = score(dataset_dir=dataset, model_path=path, device="cpu")
    gpu = score(dataset_dir=dataset, model_path=path, device="cuda", batch_size=128)
    assert gpu["device_kind"] == "cuda"
    if fmt == "torchscript":
        assert "cpu" not in gpu["device"].lower()
    # Random weights give near-tied logits; allow a few flips from GPU arithmetic.
    assert abs(gpu["top1_correct"] - cpu["top1_correct"]) <= 6
    assert abs(gpu["top5_correct"] - cpu["top5_correct"]) <= 6
    print(f"{fmt}: sandbox={gpu['sandbox']} device={gpu['device']}")
