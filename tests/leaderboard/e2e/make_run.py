"""``make run``'s platform for a test: ``python -m leaderboard.devserver`` from an empty var
directory, with the web server and the real Celery worker it starts, on a port of its own.

As on a fresh clone: no DATABASE_URL and no broker URL, so SQLite and Celery's filesystem queue
under that var directory. ``--no-baselines``: the shipped baselines are not entered, as their
scoring (robustness track and insights included) would hold the one worker for minutes before
the walk's own model and check; the walk's time stays near three minutes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..processes import kill_all, processes_with_env
from ..test_devserver import ROOT, VAR_KEY, Output, free_port

# Migrations, the demo's import (Fashion-MNIST and its robustness copies), the worker's start.
START_TIMEOUT_S = 420  # generous: the start takes minutes on a heavily loaded machine
STOP_TIMEOUT_S = 60


@dataclass(frozen=True)
class Platform:
    url: str  # "http://127.0.0.1:PORT" (no trailing slash)
    username: str  # the demo account the banner prints
    password: str
    output: Output


@contextmanager
def make_run(var: Path) -> Iterator[Platform]:
    """The dev server running until the block ends; then stopped with SIGTERM, as Ctrl-C does."""
    port = free_port()
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env[VAR_KEY] = str(var)
    argv = [sys.executable, "-m", "leaderboard.devserver", "--port", str(port), "--no-baselines"]
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = Output(proc.stdout)
    try:
        url = output.wait_for(r"site:\s+(http://\S+)/", timeout_s=START_TIMEOUT_S).group(1)
        login = output.wait_for(r"log in as:\s+(\S+) / (\S+)", timeout_s=10)
        output.wait_for(re.escape("Ctrl-C stops"), timeout_s=10)
        yield Platform(url=url, username=login.group(1), password=login.group(2), output=output)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=STOP_TIMEOUT_S) == 0, output.text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        kill_all([pid for pid, _ in processes_with_env(key=VAR_KEY, value=str(var))])
