"""`python -m evaluator score` end to end, on real data, against independent computations."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import top_k_accuracy_score
from torch import nn

from evaluator.datasets import import_dataset
from evaluator.spec import InputSpec
from tests.evaluator.models import export_onnx, model_files, reference_logits  # noqa: F401

FASHION = Path("/usr/share/datasets/fashion-mnist")
REPO = Path(__file__).resolve().parents[2]
FM_SPEC = InputSpec(channels=1, height=28, width=28, mean=(0.2860,), std=(0.3530,))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evaluator", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def read_idx(path: Path) -> np.ndarray:
    """A minimal IDX reader, independent of evaluator.datasets."""
    with gzip.open(path) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def train_linear(images: np.ndarray, labels: np.ndarray, *, spec: InputSpec) -> nn.Module:
    """A softmax regression trained for a few seconds: better than chance, cheap to run."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(images[0].size, 10))
    x = torch.from_numpy(images.copy()).float().reshape(len(images), 1, 28, 28) / 255 - spec.mean[0]
    x = x / spec.std[0]
    y = torch.from_numpy(labels.astype(np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        for lo in range(0, len(x), 500):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[lo : lo + 500]), y[lo : lo + 500]).backward()
            opt.step()
    return model.eval()


@pytest.mark.slow
@pytest.mark.skipif(not FASHION.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_fashion_mnist_score_matches_onnxruntime_and_sklearn(tmp_path: Path) -> None:
    train_x = read_idx(FASHION / "train-images-idx3-ubyte.gz")[:20000]
    train_y = read_idx(FASHION / "train-labels-idx1-ubyte.gz")[:20000]
    model = train_linear(train_x, train_y, spec=FM_SPEC)
    onnx_path = export_onnx(model, tmp_path / "linear.bin", example=torch.zeros(2, 1, 28, 28))
    assert cli(
        "import", "--format", "idx", "--source", str(FASHION), "--out", str(tmp_path / "fm"),
        "--size", "28", "28", "--channels", "1", "--mean", "0.2860", "--std", "0.3530",
        "--no-progress",
    ).returncode == 0  # fmt: skip

    done = cli("score", "--dataset", str(tmp_path / "fm"), "--model", str(onnx_path), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)

    # Independent: raw IDX bytes, onnxruntime, textbook normalisation, scikit-learn's top-k.
    test_x = read_idx(FASHION / "t10k-images-idx3-ubyte.gz").astype(np.float32)
    test_y = read_idx(FASHION / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    x = ((test_x / 255 - 0.2860) / 0.3530)[:, None]
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: x})[0]
    for k, key in [(1, "top1_error"), (5, "top5_error")]:
        expected = 1 - top_k_accuracy_score(test_y, logits, k=k, labels=np.arange(10))
        assert result[key] == pytest.approx(expected, abs=1e-9)
    assert result["n_images"] == 10000
    assert result["top1_error"] < 0.3  # a trained model, far from chance (0.9)
    assert result["public"]["n_images"] + result["private"]["n_images"] == 10000
    assert result["format"] == "onnx"
    assert result["params"] == 784 * 10 + 10
    for key in ("model_sha256", "dataset_fingerprint", "device", "precision", "sandbox"):
        assert result[key]
    assert result["throughput_img_s"] > 0
    assert set(result["versions"]) >= {"torch", "torchvision", "onnxruntime"}


def test_digits_safetensors_with_arch_matches_the_module(
    tmp_path: Path,
    model_files,  # noqa: F811
) -> None:
    digits = load_digits()
    images = (digits.images * (255 / 16)).round().astype(np.uint8)[:300]
    labels = digits.target[:300]
    np.savez(tmp_path / "digits.npz", images=images, labels=labels)
    spec = InputSpec(channels=1, height=28, width=28)
    report = import_dataset(
        fmt="npz", source=tmp_path / "digits.npz", out=tmp_path / "set", spec=spec, progress=False
    )
    done = cli(
        "score", "--dataset", str(report.out), "--model", str(model_files.safetensors),
        "--arch", model_files.arch, "--json", "--batch-size", "64",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    compiled = np.load(tmp_path / "set" / "images" / "images.npy")
    logits = reference_logits(model_files.module, compiled, spec)
    expected = 1 - top_k_accuracy_score(labels, logits, k=1, labels=np.arange(10))
    assert result["top1_error"] == pytest.approx(expected, abs=1e-9)
    assert result["format"] == "safetensors"
    assert result["arch"] == model_files.arch


def test_pickled_model_fails_with_json_error_and_exit_code(
    tiny_dataset: Path,
    model_files,  # noqa: F811
) -> None:
    done = cli(
        "score", "--dataset", str(tiny_dataset), "--model", str(model_files.pickled_module),
        "--json",
    )  # fmt: skip
    assert done.returncode != 0
    error = json.loads(done.stdout)
    assert error["code"] == "pickle_refused"
    assert "torch.onnx.export" in error["error"]
    assert done.stderr.startswith("error: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_missing_model_file_is_named(tiny_dataset: Path, tmp_path: Path) -> None:
    done = cli("score", "--dataset", str(tiny_dataset), "--model", str(tmp_path / "nope.onnx"))
    assert done.returncode != 0
    assert "nope.onnx" in done.stderr
