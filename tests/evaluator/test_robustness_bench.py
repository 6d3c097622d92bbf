"""The robustness benchmark runs end to end and prints clean against clean+robust time."""

from __future__ import annotations

import json
from pathlib import Path

from evaluator import robustness
from evaluator.bench.robustness import main


def test_bench_on_the_digits_prints_both_times(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench.json"
    args = ["--data", "digits", "--repeat", "1", "--threads", "1", "--workdir", str(tmp_path)]
    assert main([*args, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "end to end, score()" in text and "end to end, score_robust()" in text
    results = json.loads(out.read_text())
    assert results["n_images"] == 1797 and results["robust_compile_s"] > 0
    assert set(results["in_process"]["per_transform_s"]) == set(robustness.NAMES)
    e2e = results["end_to_end"]
    assert e2e["robust_wall_s"] > 0 and e2e["clean_wall_s"] > 0
    assert e2e["robust_inference_s"] > 0
