"""``python -m evaluator.bench.imports`` runs end to end on a small tree and prints its rates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evaluator.bench import imports


def test_the_import_bench_prints_every_rate_and_the_ratios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "tree"
    imports.write_photo_tree(root, n=24, size=(300, 400), workers=1)
    photo = next(root.rglob("*.jpg"))
    assert photo.stat().st_size > 10_000  # a real photograph's bytes, not a flat image
    recipe = ["--resize-short", "64", "--crop", "56"]
    code = imports.main(
        [
            "--source",
            str(root),
            "--repeat",
            "1",
            "--workers",
            "2",
            *recipe,
            "--workdir",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "24 files" in out and "draft-sized" in out  # 300 px photos, a target of 64: drafted
    for name in (
        "decode only, torchvision",
        "decode only, PIL",
        "import (import_dataset)",
        "compile step alone",
        "import, exact (no draft)",
        "reference: PIL + torchvision",
    ):
        assert re.search(rf"^{re.escape(name)} +\d+ +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d", out, re.M)
    assert re.search(r"import vs decode only \(torchvision\): \d+\.\d\dx by the clock", out)
    assert re.search(r"import vs reference: \d+\.\d\dx", out) and "load average" in out
