"""Start a command confined and limited, wait for it, kill it if it overstays, collect its output.

Limits apply to bubblewrap and everything it starts: one control group for the whole run
(memory and process count, see ``cgroup``), the address space of each process (CPU runs), the
size of any file written, no core dumps, a wall-clock timeout that kills the whole process
group, and a cap on the output kept. Without bubblewrap (``sandbox="none"``) the same limits, a
cleared environment and a scratch working directory still apply, but the file system and
network are the host's: ``require_sandbox=True`` refuses to run that way.

How the run ended is what the parent saw itself: bubblewrap's own status pipe
(``--json-status-fd``) says whether the sandbox started at all, the exit status and signal come
from the kernel, the group's counter says whether the memory cap killed something, and the
clock is the parent's. Nothing the child prints or writes decides any of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from evaluator.errors import ModelTimeout, SandboxUnavailable
from evaluator.formats.loaders import available_cores
from evaluator.sandbox import bwrap, cgroup
from evaluator.sandbox.bwrap import Bind
from evaluator.sandbox.limits import preexec_limits

OUTPUT_LIMIT = 64 * 1024  # bytes of the child's stdout+stderr kept (the last ones)
DEFAULT_FILE_MB = 1024  # largest file the child may write (logits of 50,000 x 1,000 are 200 MB)
SANDBOX_MODES = ("auto", "bwrap", "none")


@dataclass(frozen=True)
class Completed:
    """How a confined command ended, as the parent observed it.

    ``signal`` is set when it was killed by one; ``started`` is False when bubblewrap never
    reported the command's exit (its own setup failed, or it was killed itself);
    ``oom_kills`` counts processes the kernel killed at the group's memory cap; ``cgroup`` is
    "v2", "v1" or "none: why".
    """

    returncode: int
    signal: int | None
    output: str
    sandbox: str
    wall_seconds: float
    started: bool = True
    oom_kills: int = 0
    cgroup: str = "none"


def run_sandboxed(
    *,
    command: Callable[[str], Sequence[str]],
    binds: Sequence[Bind] = (),
    env: Mapping[str, str] | None = None,
    timeout_s: float,
    memory_mb: int | None,
    cuda: bool = False,
    file_mb: int = DEFAULT_FILE_MB,
    pids_max: int | None = cgroup.DEFAULT_PIDS_MAX,
    sandbox: str = "auto",
    require_sandbox: bool = False,
) -> Completed:
    """Run ``command(root)`` where ``root`` is the directory holding ``binds`` by name.

    Inside bubblewrap ``root`` is ``/sandbox``; without it, a scratch directory of symlinks
    with the same names. ``root/lib`` is the child's PYTHONPATH: bind packages there.
    ``memory_mb`` caps the whole run's memory (the group) and each process's address space,
    the latter not when ``cuda``: the CUDA driver reserves far more virtual memory than it
    uses, so RLIMIT_AS would break it (GPU memory is the GPU's). ``pids_max`` caps the
    processes and threads of the whole run.
    """
    confined = start_confined(
        command=command,
        binds=binds,
        env=env,
        memory_mb=memory_mb,
        cuda=cuda,
        file_mb=file_mb,
        pids_max=pids_max,
        sandbox=sandbox,
        require_sandbox=require_sandbox,
    )
    return wait_confined(confined, timeout_s=timeout_s)


@dataclass
class Confined:
    """A confined command started and not yet waited for: a cold run, or a warm child that
    waits for its one job (``evaluator.sandbox.pool``). ``clock`` is when its time limit and
    wall time start counting: the start, or a warm child's hand-over (``start_clock``)."""

    proc: subprocess.Popen
    tail: _TailReader
    mode: str
    group: cgroup.RunGroup | None
    group_word: str
    status_fds: tuple[int, int]
    scratch: Path
    clock: float
    released: bool = False

    def start_clock(self) -> None:
        self.clock = time.monotonic()

    def release(self) -> None:
        """Close the status pipe, remove the group and the scratch directory, once."""
        if not self.released:
            self.released = True
            _release(group=self.group, status_fds=self.status_fds, scratch=self.scratch)


def start_confined(
    *,
    command: Callable[[str], Sequence[str]],
    binds: Sequence[Bind] = (),
    env: Mapping[str, str] | None = None,
    memory_mb: int | None,
    cuda: bool = False,
    file_mb: int = DEFAULT_FILE_MB,
    pids_max: int | None = cgroup.DEFAULT_PIDS_MAX,
    sandbox: str = "auto",
    require_sandbox: bool = False,
    stdin_pipe: bool = False,
    pass_fds: Sequence[int] = (),
    symlinks: Sequence[tuple[str, str]] = (),
    only_bwrap: bool = False,
) -> Confined:
    """Start ``command(root)`` with every limit of ``run_sandboxed`` in force from its start.

    ``stdin_pipe`` gives the command a pipe on its standard input (a warm child's hand-over);
    ``pass_fds`` are inherited as they are; ``symlinks`` are ``(target, name)`` links made at
    ``root/name`` inside bubblewrap. ``only_bwrap`` refuses to start without bubblewrap.
    """
    support = _choose_sandbox(sandbox=sandbox, require_sandbox=require_sandbox)
    if only_bwrap and support is None:
        raise SandboxUnavailable("a warm sandbox needs bubblewrap, which is not usable here")
    scratch = Path(tempfile.mkdtemp(prefix="evaluator-sandbox-"))
    group, group_word = cgroup.create_run_group(memory_mb=memory_mb, pids_max=pids_max)
    status_r, status_w = os.pipe() if support is not None else (-1, -1)
    try:
        child_env = base_env(cuda=cuda) | dict(env or {})
        if support is None:
            root = _symlink_root(scratch, binds)
            (scratch / "tmp").mkdir()
            child_env |= {"HOME": str(scratch / "tmp"), "TMPDIR": str(scratch / "tmp")}
            child_env["PYTHONPATH"] = f"{root}/lib"
            argv = list(command(str(root)))
            mode, cwd = "none", scratch / "tmp"
        else:
            child_env["PYTHONPATH"] = f"{bwrap.SANDBOX_ROOT}/lib"
            argv = bwrap.build_argv(
                support=support,
                command=command(bwrap.SANDBOX_ROOT),
                binds=binds,
                env=child_env,
                cuda=cuda,
                status_fd=status_w,
                symlinks=symlinks,
            )
            mode, cwd = "bwrap", scratch
        limits = preexec_limits(
            memory_mb=None if cuda else memory_mb, file_mb=file_mb, pids_max=pids_max, group=group
        )
        fds = tuple(pass_fds) + ((status_w,) if status_w >= 0 else ())
        clock = time.monotonic()
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=dict(child_env),
                cwd=cwd,
                start_new_session=True,
                close_fds=True,
                pass_fds=fds,
                preexec_fn=limits,  # only a write to the group and setrlimit between fork and exec
            )
        finally:
            if group is not None:
                group.close_for_child()
    except BaseException:
        _release(group=group, status_fds=(status_r, status_w), scratch=scratch)
        raise
    return Confined(
        proc=proc,
        tail=_TailReader(proc.stdout),
        mode=mode,
        group=group,
        group_word=group_word,
        status_fds=(status_r, status_w),
        scratch=scratch,
        clock=clock,
    )


def wait_confined(confined: Confined, *, timeout_s: float) -> Completed:
    """Wait until the command ends or ``timeout_s`` has passed since ``confined.clock``, then
    kill whatever it left and release the group, the status pipe and the scratch directory."""
    try:
        done = _wait(confined, timeout_s=timeout_s)
        status_r = confined.status_fds[0]
        started = confined.mode == "none" or _bwrap_ran_command(status_r)
        group = confined.group
        oom_kills = group.oom_kills() if group is not None else 0
        return dataclasses.replace(
            done, started=started, oom_kills=oom_kills, cgroup=confined.group_word
        )
    finally:
        confined.release()


def discard_confined(confined: Confined) -> None:
    """Kill a started command that will not be waited for (a warm child no job will use)."""
    if confined.released:
        return
    try:
        _kill_group(confined.proc)
        if confined.group is not None:
            confined.group.kill_all()
        confined.tail.join()
    finally:
        confined.release()


def _release(*, group: cgroup.RunGroup | None, status_fds: tuple[int, int], scratch: Path) -> None:
    for fd in status_fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
    if group is not None:
        group.remove()
    shutil.rmtree(scratch, ignore_errors=True)


def base_env(*, cuda: bool) -> dict[str, str]:
    """The whole environment a child gets: paths and thread counts, never the worker's secrets."""
    threads = str(available_cores())
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        # getpass.getuser() (torch caches) reads these first; no passwd entry exists inside.
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": threads,
        # Idle OpenMP threads sleep instead of spinning: on a node shared with anything else a
        # spinning pool made LeNet-5's forward pass 3 to 6 times slower (README, Speed).
        "OMP_WAIT_POLICY": "PASSIVE",
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }
    if os.environ.get("LD_LIBRARY_PATH"):
        env["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH"]
    if cuda and os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


def describe_signal(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _choose_sandbox(*, sandbox: str, require_sandbox: bool) -> bwrap.BwrapSupport | None:
    if sandbox not in SANDBOX_MODES:
        raise ValueError(f"sandbox must be one of {SANDBOX_MODES}, got {sandbox!r}")
    if sandbox == "none" and not require_sandbox:
        return None
    support = bwrap.probe()
    if support is not None:
        return support
    if require_sandbox or sandbox == "bwrap":
        raise SandboxUnavailable(
            "bubblewrap (package 'bubblewrap') is missing or cannot create namespaces here, "
            "and models are only run inside it on this worker"
        )
    return None


def _symlink_root(scratch: Path, binds: Sequence[Bind]) -> Path:
    """Without bubblewrap: the same names under a scratch root, as symlinks to the sources."""
    root = scratch / "root"
    linked: list[str] = []
    for bind in binds:
        if any(bind.name.startswith(f"{name}/") for name in linked):
            continue  # inside a directory already linked (a writable file in out/)
        linked.append(bind.name)
        link = root / bind.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path(bind.source).resolve())
    root.mkdir(exist_ok=True)
    return root


def _bwrap_ran_command(status_r: int) -> bool:
    """Whether bubblewrap's status pipe reported the command's exit ("exit-code").

    bubblewrap writes it when the sandboxed command ends, whatever its status; a failure of
    bubblewrap's own setup (no namespaces, a bind it cannot make) ends it without one. The
    pipe is bubblewrap's alone: the command inside does not inherit it.
    """
    os.set_blocking(status_r, False)
    raw = bytearray()
    with contextlib.suppress(BlockingIOError, OSError):
        while len(raw) < 65536 and (chunk := os.read(status_r, 4096)):
            raw += chunk
    return b'"exit-code"' in raw


def _wait(confined: Confined, *, timeout_s: float) -> Completed:
    proc, tail = confined.proc, confined.tail
    try:
        proc.wait(timeout=max(0.0, confined.clock + timeout_s - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        tail.join()
        raise ModelTimeout(
            f"the model did not finish within the time limit of {timeout_s:g} s "
            "(loading and scoring together) and was stopped"
        ) from None
    finally:
        _kill_group(proc)  # stragglers the command left behind
        if confined.group is not None:
            confined.group.kill_all()  # and any that left the process group (setsid)
    tail.join()
    wall = time.monotonic() - confined.clock
    return Completed(
        returncode=proc.returncode,
        signal=_signal_of(proc.returncode, mode=confined.mode),
        output=tail.text(),
        sandbox=confined.mode,
        wall_seconds=wall,
    )


def _signal_of(returncode: int, *, mode: str) -> int | None:
    """The signal that ended the command; bwrap reports a child's death by signal N as 128+N."""
    if returncode < 0:
        return -returncode
    if mode == "bwrap" and 128 < returncode < 128 + 65:
        return returncode - 128
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class _TailReader:
    """Drain a pipe on a thread (so the child never blocks on it), keeping the last bytes only."""

    def __init__(self, stream: io.BufferedReader, limit: int = OUTPUT_LIMIT) -> None:
        self._stream = stream
        self._limit = limit
        self._buffer = bytearray()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        for chunk in iter(lambda: self._stream.read1(65536), b""):
            self._buffer += chunk
            if len(self._buffer) > 2 * self._limit:
                del self._buffer[: -self._limit]

    def join(self) -> None:
        self._thread.join(timeout=5)

    def text(self) -> str:
        return bytes(self._buffer[-self._limit :]).decode("utf-8", "replace")
