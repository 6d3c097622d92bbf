"""``python -m baselines``: training on files alone, without the site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baselines.cli import main


def test_train_on_files_writes_both_exports(
    digits_source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--model", "mlp", "--data-format", "npz", "--data-source", str(digits_source)]
    argv += ["--size", "28", "28", "--epochs", "1", "--cache-dir", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{") :])  # after the log lines
    assert summary["arch"] == "baseline-mlp" and summary["year"] == 2015
    assert Path(summary["onnx"]).is_file() and Path(summary["safetensors"]).is_file()

    assert main(argv) == 0  # the second run reuses the cache entry
    assert "reusing" in capsys.readouterr().out


def test_list_and_unknown_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    listed = {line.split()[0]: line.split()[2] for line in capsys.readouterr().out.splitlines()}
    assert listed["baseline-lenet5"] == "fast" and listed["baseline-resnet20"] == "cpu"
    assert listed["baseline-resnet18"] == "gpu"
    assert main(["train", "--model", "lenet7", "--data-format", "npz", "--data-source", "x"]) == 2
    assert main(["train", "--model", "lenet5"]) == 2  # neither a challenge nor files
