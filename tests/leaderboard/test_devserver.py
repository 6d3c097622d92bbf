"""`make run` for real: the dev server as a subprocess from an empty var directory, over HTTP."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from leaderboard import devserver, processes

from .processes import kill_all, processes_with_env

ROOT = Path(__file__).resolve().parents[2]
VAR_KEY = "LEADERBOARD_VAR_DIR"
SETTINGS_KEY, LOCAL = "DJANGO_SETTINGS_MODULE", "leaderboard.settings.local"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Output:
    """The dev server's merged output, read on a thread so the pipe never fills."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            self._queue.put(line)

    def wait_for(self, pattern: str, *, timeout_s: float) -> re.Match:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"{pattern!r} not printed in {timeout_s:g} s:\n{self.text()}")

    def text(self) -> str:
        return "\n".join(self.lines[-200:])


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode()


@pytest.mark.slow
def test_devserver_serves_the_demo_and_stops_every_child_on_sigterm(tmp_path):
    var = tmp_path / "var"
    port = free_port()
    # No DATABASE_URL, no broker URL: the embedded default, as `make run` on a fresh clone.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env[VAR_KEY] = str(var)
    env["SWEEP_INTERVAL_S"] = "1"  # the sweepers every second: their routine runs say nothing
    proc = subprocess.Popen(
        [sys.executable, "-m", "leaderboard.devserver", "--port", str(port), "--no-baselines"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = Output(proc.stdout)
    try:
        output.wait_for(r"devserver@\S+ ready\.", timeout_s=180)
        # The banner last, below Celery's start-up lines, where it stays on the screen.
        url = output.wait_for(r"site:\s+(http://\S+/)", timeout_s=30).group(1)
        assert url == f"http://127.0.0.1:{port}/"
        login = output.wait_for(r"log in as:\s+(\S+) / (\S+)", timeout_s=5)
        assert login.groups() == ("demo", "demo-password")
        mail = output.wait_for(r"mail:\s+written to files in (\S+)", timeout_s=5).group(1)
        assert mail == str(var / "mail")  # make run's mail, where the banner says
        output.wait_for(r"Ctrl-C stops", timeout_s=5)
        banner_at = len(output.lines)

        status, home = get(url)
        assert status == 200 and "/c/demo/" in home
        time.sleep(3)  # three runs of each sweeper, which changed nothing: not a line
        after = "\n".join(output.lines[banner_at:])
        assert "Sending due task" not in after and "succeeded in" not in after, after
        status, page = get(f"{url}c/demo/")
        assert status == 200 and ("Fashion-MNIST" in page or "Digits" in page)
        children = processes_with_env(key=VAR_KEY, value=str(var))
        assert len(children) >= 3  # web, worker, pool
        # The worker was told the settings (the Celery app refuses to load without them).
        local = {pid for pid, _ in processes_with_env(key=SETTINGS_KEY, value=LOCAL)}
        assert any("celery" in command and pid in local for pid, command in children)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, output.text()
        assert "devserver: all stopped" in output.text()
        assert processes_with_env(key=VAR_KEY, value=str(var)) == []
        # The queue's bookkeeping stayed under the var directory.
        assert (var / "celery" / "control" / "gpu.exchange").is_file()
        assert (var / "db.sqlite3").is_file()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        kill_all([pid for pid, _ in processes_with_env(key=VAR_KEY, value=str(var))])


def test_an_optional_command_is_run_only_where_an_app_provides_it():
    assert devserver._has_command("create_demo")
    assert not devserver._has_command("no_such_command_here")


def test_the_processes_it_starts_are_told_which_settings_to_use(monkeypatch):
    from django.conf import settings

    monkeypatch.delenv(SETTINGS_KEY, raising=False)
    assert devserver._child_env()[SETTINGS_KEY] == settings.SETTINGS_MODULE


def test_the_banner_comes_again_once_the_baselines_are_in(capsys):
    stopping, shown = threading.Event(), []

    def finished(name: str, status: int) -> None:
        shown.append((name, status))
        stopping.set()

    children = [
        processes.spawn(name="baselines", argv=[sys.executable, "-c", "print('trained')"]),
        processes.spawn(name="worker", argv=[sys.executable, "-c", "import time; time.sleep(30)"]),
    ]
    try:
        assert devserver._supervise(children=children, stopping=stopping, finished=finished) == 0
    finally:
        for child in children:
            processes.stop(child, grace_s=1)
    assert shown == [("baselines", 0)]
    assert "baselines finished (exit status 0)" in capsys.readouterr().out


def test_the_banner_waits_for_the_worker_to_say_it_is_ready():
    worker = processes.spawn(
        name="worker", argv=[sys.executable, "-c", "import time; time.sleep(30)"]
    )
    ready, stop = threading.Event(), threading.Event()
    try:
        threading.Timer(0.3, ready.set).start()
        started = time.monotonic()
        assert devserver._wait_for_worker(ready=ready, worker=worker, stop=stop)
        assert time.monotonic() - started >= 0.25
    finally:
        processes.stop(worker, grace_s=1)
    assert not devserver._wait_for_worker(ready=threading.Event(), worker=worker, stop=stop)
