"""One control group per sandboxed run: memory and process caps for the whole run, not per process.

RLIMIT_AS binds each process alone (four children of 1.5 GB each fit under a 4 GB cap) and
RLIMIT_NPROC does not bind root at all; a group does both for everything the run starts. The
worker creates the group beside its own (cgroup v2 ``memory.max``/``pids.max``, or the v1
``memory`` and ``pids`` hierarchies), moves the child in between fork and exec, reads the
out-of-memory kill counter afterwards (the parent's own observation, not the child's word),
kills whatever is left and removes the group. Where no group can be made (not root, a
read-only /sys/fs/cgroup) the run goes on with the per-process limits and says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
DEFAULT_PIDS_MAX = 256
PREFIX = "evaluator-run-"


@dataclass
class RunGroup:
    """A created group: ``version`` is "v2" or "v1"; ``dirs`` one directory (v2) or two (v1)."""

    version: str
    dirs: list[Path]
    _procs_fds: list[int] = field(default_factory=list)

    def open_for_child(self) -> None:
        """Open the files the forked child writes its pid to (no allocation after fork)."""
        for d in self.dirs:
            self._procs_fds.append(os.open(d / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC))

    def join(self) -> None:
        """Called in the forked child before exec: move this process into the group."""
        for fd in self._procs_fds:
            os.write(fd, b"0")

    def close_for_child(self) -> None:
        for fd in self._procs_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._procs_fds.clear()

    def oom_kills(self) -> int:
        """How many processes the kernel killed for breaking the memory cap."""
        name, key = ("memory.events", "oom_kill") if self.version == "v2" else ("", "oom_kill")
        path = self.dirs[0] / (name or "memory.oom_control")
        try:
            lines = path.read_text().splitlines()
        except OSError:
            return 0
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[0] == key and parts[1].isdigit():
                return int(parts[1])
        return 0

    def pids(self) -> list[int]:
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError):
                found |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
        return sorted(found)

    def kill_all(self, *, wait_s: float = 5.0) -> None:
        """SIGKILL every process still in the group (a setsid'd straggler included)."""
        kill_file = self.dirs[0] / "cgroup.kill"
        if self.version == "v2" and kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
        deadline = time.monotonic() + wait_s
        while (left := self.pids()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def remove(self) -> None:
        self.close_for_child()
        self.kill_all()
        for d in self.dirs:
            deadline = time.monotonic() + 2.0
            while True:  # the last process may take a moment to leave
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.002)


@dataclass(frozen=True)
class GroupRequest:
    memory_bytes: int | None  # None: no memory cap
    pids_max: int | None  # None: no process cap


def create_run_group(
    *, memory_mb: int | None, pids_max: int | None = DEFAULT_PIDS_MAX, root: Path = CGROUP_ROOT
) -> tuple[RunGroup | None, str]:
    """A new group with the caps set, and a word for the record ("v2", "v1", or why not)."""
    request = GroupRequest(
        memory_bytes=None if memory_mb is None else memory_mb * 1024 * 1024, pids_max=pids_max
    )
    name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"  # the worker that made it
    try:
        if (root / "cgroup.controllers").is_file():
            return _create_v2(root=root, name=name, request=request), "v2"
        if (root / "memory").is_dir() and (root / "pids").is_dir():
            return _create_v1(root=root, name=name, request=request), "v1"
    except OSError as exc:
        return None, f"none: {exc.strerror or exc}"
    return None, "none: no memory and pids controllers under /sys/fs/cgroup"


def own_group(hierarchy: str, *, proc_cgroup: str | None = None) -> str:
    """This process's group path in a hierarchy ("" is v2's), from /proc/self/cgroup."""
    text = proc_cgroup if proc_cgroup is not None else Path("/proc/self/cgroup").read_text()
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        if hierarchy in controllers.split(","):  # v2's line is "0::/path"
            return path
    return "/"


def _create_v1(*, root: Path, name: str, request: GroupRequest) -> RunGroup:
    made: list[Path] = []
    try:
        for controller in ("memory", "pids"):
            d = root / controller / own_group(controller).lstrip("/") / name
            d.mkdir()
            made.append(d)
        memory, pids = made
        if request.memory_bytes is not None:
            (memory / "memory.limit_in_bytes").write_text(str(request.memory_bytes))
            memsw = memory / "memory.memsw.limit_in_bytes"
            if memsw.exists():  # no swapping past the cap either
                with contextlib.suppress(OSError):
                    memsw.write_text(str(request.memory_bytes))
        (pids / "pids.max").write_text(str(request.pids_max or "max"))
    except OSError:
        for d in reversed(made):
            with contextlib.suppress(OSError):
                d.rmdir()
        raise
    return RunGroup(version="v1", dirs=made)


def _create_v2(*, root: Path, name: str, request: GroupRequest) -> RunGroup:
    """Under this process's own group; its controllers are enabled for children first.

    v2 forbids enabling controllers for the children of a group that holds processes (unless
    it is the root), so a worker that is alone in a container's group moves itself into a
    leaf ``worker`` group first, as container init systems do.
    """
    base = root / own_group("").lstrip("/")
    try:
        _enable_controllers(base)
    except OSError:
        if base == root:
            raise
        leaf = base / "worker"
        leaf.mkdir(exist_ok=True)
        for pid in (base / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):
                (leaf / "cgroup.procs").write_text(pid)
        _enable_controllers(base)
    d = base / name
    d.mkdir()
    try:
        if request.memory_bytes is not None:
            (d / "memory.max").write_text(str(request.memory_bytes))
            swap = d / "memory.swap.max"
            if swap.exists():
                with contextlib.suppress(OSError):
                    swap.write_text("0")
        (d / "pids.max").write_text(str(request.pids_max or "max"))
    except OSError:
        with contextlib.suppress(OSError):
            d.rmdir()
        raise
    return RunGroup(version="v2", dirs=[d])


def _enable_controllers(base: Path) -> None:
    available = (base / "cgroup.controllers").read_text().split()
    missing = [c for c in ("memory", "pids") if c not in available]
    if missing:
        raise OSError(0, f"the {' and '.join(missing)} controller is not available in {base}")
    enabled = (base / "cgroup.subtree_control").read_text().split()
    wanted = [c for c in ("memory", "pids") if c not in enabled]
    if wanted:
        (base / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in wanted))
