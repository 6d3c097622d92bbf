"""``python -m baselines``: training on files alone, without the site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baselines import shipped
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


def test_shipped_prints_the_readme_table_from_the_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["shipped"]) == 0
    lines = capsys.readouterr().out.splitlines()
    weights = shipped.available()
    assert lines[0].startswith("| network | file | dtype | size | SHA-256 |")
    for w in weights:
        row = next(line for line in lines if f"`{w.record['file']}`" in line)
        assert f"`{w.sha256[:12]}…`" in row and f"| {w.record['dtype']} |" in row
        assert f"| {w.record['bytes'] / 1000:,.0f} kB |" in row
        assert f"| {100 * w.val_error:.2f}% |" in row
    total = sum(w.path.stat().st_size for w in weights)
    assert lines[-1] == f"Total size: {total / 1000:,.0f} kB ({len(weights)} files)."
