"""Finding the processes a test started, by the unique directory in their environment."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def processes_with_env(*, key: str, value: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment has ``key=value``."""
    wanted = f"{key}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if wanted not in environ:
                continue
            status = (entry / "status").read_text()
            if "\nState:\tZ" in status:
                continue  # exited, only waiting for its parent to read the status
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        found.append((int(entry.name), cmdline.strip()))
    return found


def kill_all(pids: list[int]) -> None:
    """Last resort after a failed test: no orphan outlives it."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
