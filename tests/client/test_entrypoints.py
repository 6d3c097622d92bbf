"""``python -m leaderboard.client`` and the ``leaderboard-cli`` script as separate processes."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from leaderboard.client.cli import main

from .test_commands import closed_port

ROOT = Path(__file__).resolve().parents[2]


def run_module(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "xdg"),
    }
    return subprocess.run(
        [sys.executable, "-m", "leaderboard.client", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_console_script_points_at_main():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["leaderboard-cli"].partition(":")
    assert getattr(importlib.import_module(module), name) is main


def test_module_help_and_usage_errors(tmp_path):
    done = run_module("--help", home=tmp_path)
    assert done.returncode == 0
    for command in ("login", "submit", "status", "leaderboard", "history"):
        assert command in done.stdout
    done = run_module("submit", "model.onnx", home=tmp_path)  # no --edition
    assert done.returncode == 2 and "--edition" in done.stderr


# ``python -m leaderboard.client ARGS``, writing the names in ``sys.modules`` at exit to a file.
RUN_AND_LIST = """
import atexit, json, runpy, sys
out, sys.argv = sys.argv[1], ["leaderboard-cli", *sys.argv[2:]]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
runpy.run_module("leaderboard.client", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("args", [["--help"], ["submit", "--help"], ["submit", "model.onnx"]])
def test_help_imports_neither_the_site_nor_the_http_stack(args, tmp_path):
    """``--help`` and usage errors start at once: no Django, torch, requests or tqdm."""
    listing = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == (0 if "--help" in args else 2), done.stderr[-2000:]
    names = json.loads(listing.read_text())
    assert "leaderboard.client.cli" in names
    heavy = ("django", "celery", "torch", "torchvision", "numpy", "requests", "tqdm")
    assert [name for name in names if name.split(".")[0] in heavy] == []


def test_a_command_imports_what_it_needs(tmp_path):
    """The listing above could fail: a command that talks to a server loads requests."""
    listing = tmp_path / "modules.json"
    url = f"http://127.0.0.1:{closed_port()}"
    subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), "history", "x", "--server", url],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        capture_output=True,
        timeout=60,
    )
    assert "requests" in json.loads(listing.read_text())


def test_module_failure_exits_non_zero_with_the_message(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}"
    done = run_module("history", "fmnist", "--server", url, home=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot reach the server at {url}")
    assert done.stderr.rstrip().endswith("[server_unreachable]") and done.stdout == ""


@pytest.mark.django_db(transaction=True)
def test_module_talks_to_a_live_site(live_server, edition, tmp_path):
    done = run_module("challenges", "--server", live_server.url, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "fmnist/2025" in done.stdout
