"""The command line starts without torch: ``--help`` and the parent of a plain ``score``.

Importing torch costs seconds (torchvision's transforms pull in ``torch._dynamo``), and the
parent of a scoring run needs none of it: the sandboxed child loads the model. Each test runs
the real ``python -m evaluator`` in a fresh interpreter and reads the modules it holds at exit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from torch import nn

from tests.evaluator.conftest import write_compiled_dataset
from tests.evaluator.models import example_input, export_onnx

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "torchvision", "onnxruntime", "onnx", "django", "celery")


# ``python -m evaluator ARGS``, writing the names in ``sys.modules`` at exit to a file. Not
# ``-X importtime``: it misses modules loaded through ``importlib.import_module``.
RUN_AND_LIST = """
import atexit, json, runpy, sys
out, sys.argv = sys.argv[1], ["evaluator", *sys.argv[2:]]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
runpy.run_module("evaluator", run_name="__main__", alter_sys=True)
"""


def run_imports(*args: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``python -m evaluator ARGS`` in a fresh interpreter; its result and its modules."""
    listing = tmp_path / "modules.json"
    listing.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, set(json.loads(listing.read_text()))


def heavy(names: set[str]) -> list[str]:
    return sorted(name for name in names if name.split(".")[0] in HEAVY)


@pytest.mark.parametrize("command", [[], ["score"], ["import"], ["robust"], ["check"]])
def test_help_imports_no_framework(command: list[str], tmp_path: Path) -> None:
    done, names = run_imports(*command, "--help", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage: python -m evaluator" in done.stdout
    assert "evaluator.cli" in names  # the reader saw the command line's own imports
    assert heavy(names) == []


def test_a_usage_error_imports_no_framework(tmp_path: Path) -> None:
    done, names = run_imports("score", "--dataset", "somewhere", tmp_path=tmp_path)  # no --model
    assert done.returncode == 2 and "--model" in done.stderr
    assert heavy(names) == []


def linear_onnx(path: Path) -> Path:
    module = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10)).eval()
    return export_onnx(module, path, example=example_input())


def test_the_parent_of_a_plain_score_imports_no_torch(tmp_path: Path) -> None:
    """The whole run, sandboxed child included; only the child loads torch and onnxruntime."""
    dataset = write_compiled_dataset(tmp_path / "set", n=16)
    model = linear_onnx(tmp_path / "linear.onnx")
    args = ("score", "--dataset", str(dataset), "--model", str(model), "--json")
    done, names = run_imports(*args, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["n_images"] == 16 and result["format"] == "onnx"
    assert "evaluator.scoring" in names
    assert heavy(names) == []


def test_the_robustness_parent_imports_torch_only_to_compile_the_copies(tmp_path: Path) -> None:
    dataset = write_compiled_dataset(tmp_path / "set", n=16)
    model = linear_onnx(tmp_path / "linear.onnx")
    args = ("score", "--dataset", str(dataset), "--model", str(model), "--robustness", "--json")
    first, names = run_imports(*args, tmp_path=tmp_path)  # compiles the transformed copies: torch
    assert first.returncode == 0, first.stderr[-2000:]
    assert "torch" in names  # the listing sees torch where a command loads it
    again, names = run_imports(
        *args, tmp_path=tmp_path
    )  # the copies are current: nothing to compile
    assert again.returncode == 0, again.stderr[-2000:]
    errors = [json.loads(done.stdout)["robustness"]["results"] for done in (first, again)]
    assert errors[0] == errors[1]
    assert "evaluator.robustness.scoring" in names
    assert heavy(names) == []
