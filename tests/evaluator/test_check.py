"""Checking a model before it costs a submission: real model files, the real sandbox.

The guesses are compared with onnxruntime run directly here and a numpy softmax; each failure
is compared with what ``evaluator.scoring.score`` says of the same file.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from torch import nn

from evaluator.check import CheckReport, check_model
from evaluator.cli import main
from evaluator.errors import EvaluatorError, ModelCheckError, ModelTimeout, UnsupportedFormat
from evaluator.scoring import score
from evaluator.spec import InputSpec
from tests.evaluator import models
from tests.evaluator.conftest import write_compiled_dataset

pytestmark = pytest.mark.timeout(300)

SPEC = InputSpec(channels=1, height=28, width=28)
NAMES = [f"class{i}" for i in range(10)]
LABELS = [3, 1, 4, 1, 5, 9, 2, 6]


class Spin(nn.Module):
    """Never returns."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = 0
        while n >= 0:
            n = n + 1
        return x.flatten(1)[:, :10]


def _tiny(classes: int) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, stride=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 13 * 13, classes),
    ).eval()


def _onnx(path: Path, *, classes: int) -> Path:
    return models.export_onnx(_tiny(classes), path, example=models.example_input())


def _samples() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, size=(8, 1, 28, 28), dtype=np.uint8)


def _check(path: Path, **options) -> CheckReport:
    given = {"samples": _samples(), "labels": LABELS, "class_names": NAMES, "timeout_s": 120}
    return check_model(model_path=path, arch=None, spec=SPEC, num_classes=10, **(given | options))


def _scored_error(path: Path, root: Path, **options) -> EvaluatorError:
    """What scoring says of ``path`` on a set of as many images as the check's samples."""
    dataset = write_compiled_dataset(root / "set", n=len(LABELS))
    with pytest.raises(EvaluatorError) as info:
        score(dataset_dir=dataset, model_path=path, **({"timeout_s": 120} | options))
    return info.value


def _reference_probs(path: Path, samples: np.ndarray) -> np.ndarray:
    """onnxruntime on the normalised samples, then a numpy softmax in float64."""
    mean = np.array(SPEC.mean, np.float32).reshape(1, -1, 1, 1)
    std = np.array(SPEC.std, np.float32).reshape(1, -1, 1, 1)
    x = ((samples.astype(np.float32) / 255.0 - mean) / std).astype(np.float32)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {session.get_inputs()[0].name: x})
    z = logits.astype(np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_a_good_model_passes_with_onnxruntimes_top5(tmp_path: Path) -> None:
    path = _onnx(tmp_path / "good.onnx", classes=10)
    report = _check(path)
    result = report.to_dict()
    assert json.loads(json.dumps(result)) == result
    assert result["ok"] and result["loads"] and result["format_recognised"]
    assert result["format"] == "onnx" and result["error_code"] is None
    assert result["output_shape"] == result["expected_shape"] == [8, 10]
    assert result["seconds_per_image"] > 0 and result["nonfinite_rows"] == 0
    assert result["seconds_per_image"] == pytest.approx(result["wall_seconds"] / 8)
    probs = _reference_probs(path, _samples())
    assert len(result["samples"]) == 8
    for i, sample in enumerate(result["samples"]):
        expected = [int(c) for c in np.argsort(-probs[i], kind="stable")[:5]]
        guessed = [g["prob"] for g in sample["guesses"]]
        assert [g["class"] for g in sample["guesses"]] == expected
        assert [g["name"] for g in sample["guesses"]] == [NAMES[c] for c in expected]
        assert guessed == sorted(guessed, reverse=True) and sum(guessed) <= 1 + 1e-9
        np.testing.assert_allclose(guessed, probs[i, expected], rtol=1e-4, atol=1e-6)
        assert sample["label"] == LABELS[i] and sample["label_name"] == NAMES[LABELS[i]]
        assert sample["true_prob"] == pytest.approx(probs[i, LABELS[i]], rel=1e-4, abs=1e-6)
        assert sample["true_rank"] == int((probs[i] > probs[i, LABELS[i]]).sum())


def test_a_wrong_output_shape_gets_scorings_code_and_message(tmp_path: Path) -> None:
    path = _onnx(tmp_path / "seven.onnx", classes=7)
    report = _check(path)
    scored = _scored_error(path, tmp_path)
    assert isinstance(scored, ModelCheckError)
    assert not report.ok and report.loads is True and report.format == "onnx"
    assert (report.error_code, report.error_message) == (scored.code, scored.message)
    assert "[8, 7]" in report.error_message and "[8, 10]" in report.error_message
    assert report.output_shape is None and report.samples == ()
    assert report.to_dict()["expected_shape"] == [8, 10]


@pytest.mark.parametrize("kind", ["garbage", "pickle"])
def test_an_unreadable_file_gets_scorings_code_and_message(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "model.onnx"
    if kind == "garbage":
        path.write_bytes(b"\x00not a model at all\n" * 50)
    else:
        torch.save(_tiny(10).state_dict(), path)
    report = _check(path)
    scored = _scored_error(path, tmp_path)
    assert isinstance(scored, UnsupportedFormat)
    assert report.to_dict() | {"error_message": None} == {
        "version": 1,
        "ok": False,
        "format": None,
        "format_recognised": False,
        "loads": False,
        "output_shape": None,
        "expected_shape": [8, 10],
        "samples": [],
        "nonfinite_rows": None,
        "seconds_per_image": None,
        "wall_seconds": None,
        "sandbox": None,
        "error_code": {"garbage": "unsupported_format", "pickle": "pickle_refused"}[kind],
        "error_message": None,
    }
    assert (report.error_code, report.error_message) == (scored.code, scored.message)


def test_a_model_that_never_returns_is_stopped_by_the_time_limit(tmp_path: Path) -> None:
    path = tmp_path / "spin.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(Spin()).save(str(path))
    start = time.monotonic()
    report = _check(path, timeout_s=5)
    assert time.monotonic() - start < 30
    scored = _scored_error(path, tmp_path, timeout_s=5)
    assert isinstance(scored, ModelTimeout)
    assert report.error_code == "timeout" and report.error_message == scored.message
    assert "time limit of 5 s" in report.error_message
    assert not report.ok and report.format == "torchscript" and report.loads is None


def test_arguments_that_break_the_contract_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "unused.onnx"
    with pytest.raises(ValueError, match="uint8"):
        _check(path, samples=_samples().astype(np.float32))
    with pytest.raises(ValueError, match=r"0\.\.9"):
        _check(path, labels=[10] * 8)
    with pytest.raises(ValueError, match="class names"):
        _check(path, class_names=NAMES[:9])


def test_the_command_line_checks_a_sets_first_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = write_compiled_dataset(tmp_path / "set", n=20)
    good = _onnx(tmp_path / "good.onnx", classes=10)
    assert main(["check", "--samples", str(dataset), "--model", str(good), "--count", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: onnx loads, output [4, 10] as expected") and out.count("%") == 20
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00garbage")
    argv = ["check", "--samples", str(dataset), "--model", str(garbage), "--json"]
    assert main(argv) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["error_code"] == "unsupported_format" and not result["format_recognised"]
    assert main(["check", "--samples", str(tmp_path / "none"), "--model", str(good)]) == 2
