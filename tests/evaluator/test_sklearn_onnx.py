"""A scikit-learn model as skl2onnx exports it scores what scikit-learn itself predicts.

skl2onnx writes a flat ``[N, 784]`` input and two outputs, the int64 label first and then the
probabilities: with ``options={'zipmap': False}`` a float tensor, by default a sequence of maps
(ZipMap), which gets a message saying how to export it instead. The model is trained on raw
0..1 pixels, so the test set is compiled with mean 0 and std 1: the scorer feeds x / 255.
"""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pytest
from skl2onnx import to_onnx
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from evaluator.datasets import import_dataset
from evaluator.errors import UnsupportedFormat
from evaluator.scoring import score
from evaluator.spec import InputSpec

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not Path("/usr/share/datasets/fashion-mnist").is_dir(),
        reason="apt-get install dataset-fashion-mnist",
    ),
]

FASHION = Path("/usr/share/datasets/fashion-mnist")
RAW_PIXELS = InputSpec(channels=1, height=28, width=28, mean=(0.0,), std=(1.0,))
TRAIN = 5000


def read_idx(path: Path) -> np.ndarray:
    """A minimal IDX reader, independent of evaluator.datasets."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def top_k_error(probabilities: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Share of images whose true class is not among the k highest (ties: lower index first)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return float(1 - (order == labels[:, None]).any(axis=1).mean())


@pytest.fixture(scope="module")
def fashion(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("fashion")
    train_x = read_idx(FASHION / "train-images-idx3-ubyte.gz")[:TRAIN].reshape(TRAIN, -1) / 255
    train_y = read_idx(FASHION / "train-labels-idx1-ubyte.gz")[:TRAIN]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few seconds' fit is enough
        model = LogisticRegression(max_iter=50).fit(train_x.astype(np.float32), train_y)
    sample = train_x[:1].astype(np.float32)
    exported = {}
    for name, options in (("nozipmap", {"zipmap": False}), ("zipmap", None)):
        onnx_model = to_onnx(model, sample, options=options) if options else to_onnx(model, sample)
        exported[name] = root / f"{name}.onnx"
        exported[name].write_bytes(onnx_model.SerializeToString())
    report = import_dataset(
        fmt="idx", source=FASHION, out=root / "set", spec=RAW_PIXELS, progress=False
    )
    return {"model": model, "set": report.out, **exported}


def test_skl2onnx_export_scores_as_predict_proba(fashion: dict) -> None:
    result = score(dataset_dir=fashion["set"], model_path=fashion["nozipmap"])

    # Independent: the raw IDX test images, scikit-learn's own probabilities, numpy's top-k.
    test_x = read_idx(FASHION / "t10k-images-idx3-ubyte.gz").reshape(10000, -1) / 255
    test_y = read_idx(FASHION / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    probabilities = fashion["model"].predict_proba(test_x)
    top1, top5 = top_k_error(probabilities, test_y, 1), top_k_error(probabilities, test_y, 5)
    print(f"scorer top-1 {result['top1_error']:.4f} top-5 {result['top5_error']:.4f}")
    print(f"predict_proba top-1 {top1:.4f} top-5 {top5:.4f}")
    assert result["top1_error"] == pytest.approx(top1, abs=1e-12)
    assert result["top5_error"] == pytest.approx(top5, abs=1e-12)
    assert result["top1_error"] < 0.25  # a trained model, far from chance (0.9)
    assert (result["n_images"], result["input_layout"], result["format"]) == (10000, "flat", "onnx")


def test_the_default_zipmap_export_gets_the_zipmap_message(fashion: dict) -> None:
    with pytest.raises(UnsupportedFormat) as info:
        score(dataset_dir=fashion["set"], model_path=fashion["zipmap"])
    assert info.value.code == "unsupported_format"
    assert "a sequence of maps (skl2onnx's ZipMap" in info.value.message
    assert "export with `options={'zipmap': False}`" in info.value.message
