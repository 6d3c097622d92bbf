"""The ``import`` sub-command, through its own parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from evaluator.datasets import open_dataset
from evaluator.datasets.cli import add_import_parser, run_import


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="evaluator")
    add_import_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["import", *argv])


@pytest.fixture
def source(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 10, 10), dtype=np.uint8)
    np.savez(tmp_path / "src.npz", images=images, labels=np.arange(12) % 3)
    return tmp_path / "src.npz"


def common(source: Path, out: Path) -> list[str]:
    return ["--format", "npz", "--source", str(source), "--out", str(out), "--no-progress"]


def test_import_prints_a_summary(source: Path, tmp_path: Path, capsys) -> None:
    args = parse(
        *common(source, tmp_path / "set"),
        *("--size", "16", "16", "--channels", "3", "--mean", "0.5", "0.4", "0.3"),
        *("--std", "0.2", "0.2", "0.2", "--public-fraction", "0.25", "--seed", "4"),
        *("--workers", "1", "--limit", "8"),
    )
    assert args.func is run_import
    assert run_import(args) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("imported 8 images (0 skipped), 3 classes ->") and "\n" not in line
    dataset = open_dataset(tmp_path / "set")
    assert dataset.spec.mean == (0.5, 0.4, 0.3) and dataset.images.shape == (8, 3, 16, 16)
    assert dataset.public_mask.sum() == 2 and dataset.labels_meta["seed"] == 4


def test_import_json_report(source: Path, tmp_path: Path, capsys) -> None:
    args = parse(
        *common(source, tmp_path / "set"), "--size", "10", "10", "--channels", "1", "--json"
    )
    assert run_import(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_images"] == 12 and report["num_classes"] == 3 and report["n_skipped"] == 0
    assert report["out"] == str(tmp_path / "set") and len(report["fingerprint"]) == 64
    assert set(report) == {
        "out",
        "n_images",
        "n_skipped",
        "skipped",
        "num_classes",
        "fingerprint",
        "seconds",
        "drafted",
        "format_version",
    }
    assert (report["drafted"], report["format_version"]) == (0, 1)


def test_dataset_error_is_one_line_on_stderr(source: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "set").mkdir()
    args = parse(*common(source, tmp_path / "set"), "--size", "10", "10", "--channels", "1")
    assert run_import(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err
        == f"error: {tmp_path / 'set'}: already exists; choose another path or overwrite it\n"
    )
    args = parse(
        *common(source, tmp_path / "set"), "--size", "10", "10", "--channels", "1", "--overwrite"
    )
    assert run_import(args) == 0


def test_dataset_error_as_json(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros((2, 4, 4), np.float32), labels=np.zeros(2, np.int64))
    args = parse(*common(bad, tmp_path / "set"), "--size", "4", "4", "--channels", "1", "--json")
    assert run_import(args) == 2
    out = json.loads(capsys.readouterr().out)
    assert (
        out["code"] == "dataset_invalid" and "bad.npz" in out["error"] and "uint8" in out["error"]
    )
    assert not (tmp_path / "set").exists()


def test_invalid_spec_is_reported(source: Path, tmp_path: Path, capsys) -> None:
    args = parse(
        *common(source, tmp_path / "set"),
        *("--size", "224", "224", "--channels", "3", "--resize-short", "100"),
    )
    assert run_import(args) == 2
    assert capsys.readouterr().err.startswith("error: invalid input spec: resize_short")
    args = parse(
        *common(source, tmp_path / "set"), "--size", "8", "8", "--channels", "1", "--mean", "1", "2"
    )
    assert run_import(args) == 2
    assert "mean and std need 1 values" in capsys.readouterr().err
