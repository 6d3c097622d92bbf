"""The score's record keeps what the parent measured apart from what the model says of itself."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from evaluator import hardware
from evaluator.formats.base import ModelFormat
from evaluator.scoring import run_record, score
from tests.evaluator.models import ModelFiles, export_torchscript
from tests.evaluator.protobuf_bytes import write_crafted_onnx

pytestmark = pytest.mark.timeout(300)
SPOOFED = {"params": 1, "images_per_second": 1e12, "seconds": 1e-9, "device_name": "a B200"}


def record(path: Path, fmt: ModelFormat, info: dict, **overrides) -> dict:
    arguments = {
        "model_path": path,
        "fmt": fmt,
        "arch": None,
        "dataset_fingerprint": "f" * 64,
        "device": "cpu",
        "precision": "fp32",
        "info": info,
        "wall_seconds": 4.0,
        "n_images": 1000,
        "sandbox": "bwrap",
        "cgroup": "v1",
    }
    return run_record(**(arguments | overrides))


@pytest.mark.parametrize("fmt", list(ModelFormat))
def test_a_spoofed_claim_changes_neither_params_nor_throughput(
    model_files: ModelFiles, fmt: ModelFormat
) -> None:
    path = {
        ModelFormat.ONNX: model_files.onnx,
        ModelFormat.SAFETENSORS: model_files.safetensors,
        ModelFormat.TORCH_EXPORT: model_files.pt2,
        ModelFormat.TORCHSCRIPT: model_files.torchscript,
    }[fmt]
    found = record(path, fmt, SPOOFED)
    state = sum(t.numel() for t in model_files.module.state_dict().values())
    # ONNX: batch norm folded into the convolutions by the exporter, so fewer values stored.
    assert found["params"] == state or (fmt is ModelFormat.ONNX and 10**7 < found["params"] < state)
    assert found["params_source"] == "file"
    assert found["throughput_img_s"] == 250.0  # 1000 images in 4 s of the parent's clock
    assert found["throughput_source"] == "parent"
    assert found["reported_throughput_img_s"] == 1e12  # kept, apart, as the model's claim
    assert found["record_version"] == 2
    assert found["device"] == hardware.cpu_name() != "a B200"  # named by the parent
    assert found["cgroup"] == "v1"


def test_without_a_count_from_the_file_the_claim_is_kept_and_marked(tmp_path: Path) -> None:
    crafted = write_crafted_onnx(tmp_path / "crafted.onnx")  # over the counting budget
    found = record(crafted, ModelFormat.ONNX, {"params": 5})
    assert (found["params"], found["params_source"]) == (5, "model")
    nothing = record(crafted, ModelFormat.ONNX, {"params": "many", "images_per_second": "fast"})
    assert (nothing["params"], nothing["params_source"]) == (None, None)
    assert nothing["reported_throughput_img_s"] is None


def test_no_wall_time_means_no_throughput(model_files: ModelFiles) -> None:
    found = record(model_files.onnx, ModelFormat.ONNX, {}, wall_seconds=0.0)
    assert found["throughput_img_s"] is None and found["throughput_source"] is None


class BufferLinear(nn.Module):
    """A linear classifier whose weights are buffers: its process reports 0 parameters."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.register_buffer("w", torch.randn(10, 28 * 28))
        self.register_buffer("b", torch.zeros(10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.w.t() + self.b


def test_scored_record_counts_the_file_and_times_the_child(tiny_dataset: Path, tmp_path) -> None:
    """End to end: the child claims 0 parameters (``module.parameters()`` is empty); the record
    holds the 7,850 values the file stores, and a rate from the parent's clock."""
    module = BufferLinear().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = export_torchscript(module, tmp_path / "buffers.torchscript")
    result = score(dataset_dir=tiny_dataset, model_path=path)
    assert (result["params"], result["params_source"]) == (10 * 28 * 28 + 10, "file")
    assert result["throughput_source"] == "parent"
    assert result["throughput_img_s"] == pytest.approx(64 / result["wall_seconds"])
    # The child's own rate leaves out loading and start-up: higher, and only a claim.
    assert result["reported_throughput_img_s"] > result["throughput_img_s"]
