"""The limits a confined command runs under from its first instruction: set in the forked
process between fork and exec (``preexec_limits``), inherited by everything it starts.

The run's group (memory and process caps for the whole run), the out-of-memory killer's first
choice, no core dumps, a cap on the size of any file written, the address space of each process
(CPU runs) and the user's process count.
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Callable
from pathlib import Path

from evaluator.sandbox import cgroup


def nproc_limit(pids_max: int | None) -> int:
    """RLIMIT_NPROC counts every task of the user: what it runs now plus the run's share.

    The kernel does not apply it to root (the group's pids.max binds there).
    """
    if pids_max is None:
        return resource.RLIM_INFINITY
    uid, tasks = os.getuid(), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            tasks += int(fields.get("Threads", "1").strip() or 1)
    return tasks + pids_max


def preexec_limits(
    *, memory_mb: int | None, file_mb: int, pids_max: int | None, group: cgroup.RunGroup | None
) -> Callable[[], None]:
    """Resource limits set in the forked process just before exec; inherited by all it starts.

    The group's files are opened here, in the parent; the forked child only writes to them.
    """
    memory = None if memory_mb is None else memory_mb * 1024 * 1024
    file_size = file_mb * 1024 * 1024
    nproc = nproc_limit(pids_max)
    if group is not None:
        group.open_for_child()

    def apply() -> None:
        if group is not None:
            group.join()
        # The out-of-memory killer's first choice, before the worker that started it, also
        # where no group could be made and only a container's or machine's limit applies.
        with contextlib.suppress(OSError):
            fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
            try:
                os.write(fd, b"1000")
            finally:
                os.close(fd)
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return apply
