"""Helpers for sandbox tests: find the child process, and skip when bubblewrap cannot run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from evaluator.sandbox import bwrap

requires_bwrap = pytest.mark.skipif(
    bwrap.probe() is None, reason="bubblewrap is missing or cannot create namespaces here"
)


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc/*/stat parent links)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found


def child_python_pids() -> list[int]:
    """The Python processes running ``evaluator.sandbox.child`` started by this test process."""
    pids = []
    for pid in descendants(os.getpid()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0] == os.fsencode(sys.executable) and b"evaluator.sandbox.child" in argv:
            pids.append(pid)
    return pids
