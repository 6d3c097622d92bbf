"""Child processes the platform starts itself: the dev server's web server and worker, and the
Celery workers of the end-to-end tests and benchmarks.

Each child leads a process group of its own, so stopping it reaches everything it started
(Celery's pool processes, the embedded beat) and nothing is orphaned; a terminal's Ctrl-C goes
to the parent alone, which then stops its children in order. Exits are observed without reaping
(``waitid(WNOWAIT)``), so a group is never signalled after its leader's pid could be reused.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
_print_lock = threading.Lock()


@dataclass
class Child:
    """A started child process and the thread (if any) copying its output."""

    name: str
    popen: subprocess.Popen
    reader: threading.Thread | None = None
    returncode: int | None = field(default=None, init=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exited(self) -> bool:
        """True once the leader has exited; it is not reaped, so its group id stays ours."""
        if self.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True


def spawn(
    *,
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    echo: Callable[[str], None] | None = None,
) -> Child:
    """Start ``argv`` in a new session, its output to ``log``, to ``echo`` line by line, or ours."""
    out: IO | int | None = None
    if log is not None:
        out = open(log, "ab")  # noqa: SIM115 (the child holds it; ours is closed below)
    elif echo is not None:
        out = subprocess.PIPE
    popen = subprocess.Popen(
        list(argv),
        cwd=ROOT,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT if out is not None else None,
        start_new_session=True,
    )
    if log is not None:
        out.close()
    reader = None
    if echo is not None and log is None:
        reader = threading.Thread(target=_copy_lines, args=(popen.stdout, echo), daemon=True)
        reader.start()
    return Child(name=name, popen=popen, reader=reader)


def stop(child: Child, *, grace_s: float = 10.0) -> int:
    """SIGTERM the leader (a warm shutdown), SIGKILL the whole group after ``grace_s``.

    Whatever the leader left in its group is killed too. Returns the leader's exit status.
    """
    if child.returncode is not None:
        return child.returncode
    if not child.exited():
        _signal_pid(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while not child.exited() and time.monotonic() < deadline:
            time.sleep(0.05)
    # The leader is a zombie at worst, so its pid still names the group: sweep stragglers.
    _signal_group(child.pid, signal.SIGKILL)
    child.returncode = child.popen.wait()
    if child.reader is not None:
        child.reader.join(timeout=5)
    if child.popen.stdout is not None:
        child.popen.stdout.close()
    return child.returncode


def kill(child: Child) -> int:
    """SIGKILL the whole group at once: a machine lost mid-task, as far as the queue can tell."""
    _signal_group(child.pid, signal.SIGKILL)
    return stop(child, grace_s=0)


def celery_worker_argv(
    *,
    queues: Sequence[str],
    name: str,
    concurrency: int = 1,
    beat: bool = False,
    pool: str = "prefork",
    loglevel: str = "INFO",
) -> list[str]:
    """The production worker command line (one task at a time per GPU, prefetch 1)."""
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "leaderboard",
        "worker",
        "-Q",
        ",".join(queues),
        "-c",
        str(concurrency),
        "--prefetch-multiplier",
        "1",
        "-P",
        pool,
        "-n",
        name,
        "--loglevel",
        loglevel,
        # One worker per GPU node needs no worker-to-worker chatter; it also starts faster.
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        argv.append("--beat")  # the sweeper's schedule, embedded: only ever in ONE worker
    return argv


def wait_for_log(path: Path, text: str, *, timeout_s: float, alive: Child | None = None) -> None:
    """Poll ``path`` until it contains ``text``; raise if the child dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.is_file() and text in path.read_text(errors="replace"):
            return
        if alive is not None and alive.exited():
            raise RuntimeError(f"{alive.name} exited before logging {text!r}: {_tail(path)}")
        time.sleep(0.1)
    raise TimeoutError(f"{text!r} not logged within {timeout_s:g} s: {_tail(path)}")


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.is_file() else "(no log)"


def emit(line: str) -> None:
    """Print one whole line to our stdout, never interleaved with another thread's."""
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _copy_lines(stream: IO[bytes], echo: Callable[[str], None]) -> None:
    for raw in iter(stream.readline, b""):
        echo(raw.decode(errors="replace").rstrip("\n"))


def _signal_pid(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
