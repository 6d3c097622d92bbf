"""Warm, single-use sandboxes: a child started before its job, used for one model, discarded.

A fresh sandboxed Python spends seconds importing torch and onnxruntime before it loads a
model. A worker that enables the pool (``configure(size=1)``) keeps ``size`` children started
ahead for each of the two kinds of job it ran last (a scoring run and the insights run that
follows it): bubblewrap with the same namespaces, binds, control group and limits as a cold
run, the imports done (``evaluator.sandbox.warm``), waiting. Each is bound to its own slot, a
directory that holds only what its one job will bring (the model file, and small inputs), and
is never given a second job. The next one starts as soon as one is claimed, while that one's
model is scored; with none waiting, one is started for the job on the spot.

A claim takes a child only when everything fixed at its start matches the job (``WarmKey``:
the phase, the input directory or the copy of a small one, the output files, the device, the
memory, file and process caps, the architecture plugins) and it is alive and younger than
``max_age_s``; the job is its only once it says it took it. Otherwise the child is discarded
and the job runs cold: a warm child can make a run faster, never different. The time limit
counts from the hand-over.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import select
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evaluator.errors import EvaluatorError
from evaluator.sandbox import outputs, warm
from evaluator.sandbox.bwrap import SANDBOX_ROOT, Bind
from evaluator.sandbox.job import ChildJob, Launched, child_argv
from evaluator.sandbox.process import (
    Completed,
    Confined,
    discard_confined,
    start_confined,
    wait_confined,
)

DEFAULT_MAX_AGE_S = 600.0
READY_WAIT_S = 120.0  # a claimed child still importing gets this long to be ready
TAKEN_WAIT_S = 10.0  # from the hand-over to the child's "G"
COPY_MAX_BYTES = 64 * 2**20  # inputs up to this size are brought per job, larger ones bound
# Kinds of job with children kept: a submission's clean scoring run, its insights run and its
# robustness run (each asks for another memory cap or outputs, so each is its own kind).
KINDS_KEPT = 3


@dataclass(frozen=True)
class WarmKey:
    """Everything fixed when a child starts; a job must match all of it to use the child."""

    phase: str  # the input directory's name inside the sandbox: "images" or "samples"
    inputs: str  # "copy" (brought with the job) or the bound directory's identity
    outputs: tuple[str, ...]
    device: str
    memory_mb: int | None  # the group's cap: the configured cap plus the mapped inputs
    file_mb: int
    pids_max: int | None
    plugins: tuple[str, ...]
    sandbox: str


def key_of(job: ChildJob, *, plugins: Sequence[str]) -> WarmKey:
    """The key a job needs (``plugins``: the architecture plugins bound with it)."""
    memory = None if job.memory_mb is None else job.memory_mb + job.mapped_mb
    return WarmKey(
        phase=job.inputs.name,
        inputs=key_of_inputs(Path(job.inputs.source)),
        outputs=tuple(dict.fromkeys(job.outputs)),
        device=job.device,
        memory_mb=memory,
        file_mb=job.file_mb,
        pids_max=job.pids_max,
        plugins=tuple(plugins),
        sandbox=job.sandbox,
    )


@dataclass
class WarmChild:
    """One started child, its slot directory, and what it has said on its ready descriptor."""

    key: WarmKey
    confined: Confined
    slot: Path
    out: outputs.OutputDir
    ready_fd: int
    born: float
    said: bytearray = field(default_factory=bytearray)
    _exits: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def alive(self) -> bool:
        return self.confined.proc.poll() is None

    def ready(self, *, wait_s: float = 0.0) -> bool:
        """Whether the child has written ``R`` (waiting up to ``wait_s`` for it)."""
        return self._heard(warm.READY, wait_s=wait_s)

    def _heard(self, what: bytes, *, wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while what not in self.said:
            left_ms = max(0, int((deadline - time.monotonic()) * 1000))
            poller = select.poll()
            poller.register(self.ready_fd, select.POLLIN)
            if not poller.poll(left_ms):
                return False
            chunk = os.read(self.ready_fd, 16)
            if not chunk:  # the child closed it or died
                return what in self.said
            self.said += chunk
            if len(self.said) > 2:  # the platform's code writes two bytes, no more
                return False
        return True

    def hand_over(self, *, model_path: Path, inputs: Bind, argv: Sequence[str]) -> bool:
        """Bring the job's files into the slot, start the clock, send the job, wait for ``G``.

        False when the child cannot take it (dead, a file that cannot be brought, no ``G``):
        the caller discards the child and runs the job cold. A child still warming up gets
        ``READY_WAIT_S`` to be ready; that wait is not the job's time.
        """
        if not self.ready(wait_s=READY_WAIT_S) or not self.alive():
            return False
        try:
            _link_or_copy(model_path, self.slot / "job" / "model")
            if self.key.inputs == "copy":
                shutil.copytree(
                    inputs.source,
                    self.slot / "inputs",
                    copy_function=_link_or_copy,
                    dirs_exist_ok=True,
                )
        except OSError:
            return False
        stdin = self.confined.proc.stdin
        self.confined.start_clock()
        try:
            stdin.write(json.dumps(list(argv)).encode("utf-8") + b"\n")
            stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return self._heard(warm.TAKEN, wait_s=TAKEN_WAIT_S)

    def wait(self, *, timeout_s: float) -> Completed:
        """Wait for a child that took its job, as a cold run is waited for (the limit counts
        from the hand-over); raises ModelTimeout past it."""
        return wait_confined(self.confined, timeout_s=timeout_s)

    def discard(self) -> None:
        """Kill the child (if still running) and remove its slot."""
        with contextlib.suppress(OSError, ValueError):
            self.confined.proc.stdin.close()
        try:
            discard_confined(self.confined)
        finally:
            self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.ready_fd)
        self._exits.close()
        shutil.rmtree(self.slot, ignore_errors=True)


def start_child(*, key: WarmKey, code_binds: Sequence[Bind], inputs: Bind, cuda: bool) -> WarmChild:
    """A child for ``key``: its slot and output files made, its imports under way."""
    slot = Path(tempfile.mkdtemp(prefix="evaluator-warm-"))
    exits = contextlib.ExitStack()
    ready_r, ready_w = os.pipe()
    try:
        (slot / "job").mkdir()
        out = exits.enter_context(outputs.output_dir(key.outputs, prefix="evaluator-warm-out-"))
        if key.inputs == "copy":
            (slot / "inputs").mkdir()
            inputs = Bind(slot / "inputs", key.phase)
        device = key.device
        confined = start_confined(
            command=lambda root: [
                sys.executable,
                "-m",
                "evaluator.sandbox.warm",
                "--ready-fd",
                str(ready_w),
                "--device",
                device,
            ],
            binds=[*code_binds, Bind(slot / "job", "job"), inputs, *out.binds()],
            memory_mb=key.memory_mb,
            cuda=cuda,
            file_mb=key.file_mb,
            pids_max=key.pids_max,
            sandbox=key.sandbox,
            stdin_pipe=True,
            pass_fds=(ready_w,),
            symlinks=[("job/model", "model")],
            only_bwrap=True,
        )
    except BaseException:
        os.close(ready_r)
        exits.close()
        shutil.rmtree(slot, ignore_errors=True)
        raise
    finally:
        os.close(ready_w)
    return WarmChild(
        key=key,
        confined=confined,
        slot=slot,
        out=out,
        ready_fd=ready_r,
        born=time.monotonic(),
        _exits=exits,
    )


class WarmPool:
    """The children one worker process keeps warm: ``claim`` takes one for a job (or ``start``
    makes one on demand), ``refill`` starts the next ones."""

    def __init__(self, *, size: int = 1, max_age_s: float = DEFAULT_MAX_AGE_S) -> None:
        self.size = size
        self.max_age_s = max_age_s
        self.pid = os.getpid()  # a forked copy of this process does not own these children
        self.children: list[WarmChild] = []
        self.recent: list[WarmKey] = []  # the kinds of job asked for last, newest first
        # How jobs were served: a child started ahead, one started on demand, or cold.
        self.served = {"warm": 0, "on_demand": 0, "cold": 0}

    def claim(self, key: WarmKey) -> WarmChild | None:
        """The oldest live child for ``key``, removed from the pool; the unusable discarded.

        Children for the ``KINDS_KEPT`` kinds of job asked for last are kept (a scoring run, the
        insights run and the robustness run after it); a child for any other kind is discarded.
        """
        self.recent = [key, *(k for k in self.recent if k != key)][:KINDS_KEPT]
        self._drop(lambda c: c.key not in self.recent or not self._fresh(c))
        for child in self.children:
            if child.key == key:
                self.children.remove(child)
                return child
        return None

    def start(
        self, key: WarmKey, *, code_binds: Sequence[Bind], inputs: Bind, cuda: bool
    ) -> WarmChild | None:
        """A child for ``key`` now (None where none can start: no bubblewrap, say)."""
        try:
            return start_child(key=key, code_binds=code_binds, inputs=inputs, cuda=cuda)
        except (EvaluatorError, OSError):
            return None

    def refill(self, key: WarmKey, *, code_binds: Sequence[Bind], inputs: Bind, cuda: bool) -> None:
        """Start children for ``key`` until ``size`` wait (a failed start leaves it short)."""
        self._drop(lambda c: c.key not in self.recent or not self._fresh(c))
        while sum(c.key == key for c in self.children) < self.size:
            child = self.start(key, code_binds=code_binds, inputs=inputs, cuda=cuda)
            if child is None:
                return
            self.children.append(child)

    def close(self) -> None:
        self._drop(lambda c: True)

    def _fresh(self, child: WarmChild) -> bool:
        return time.monotonic() - child.born <= self.max_age_s and child.alive()

    def _drop(self, unusable: Callable[[WarmChild], bool]) -> None:
        for child in [c for c in self.children if unusable(c)]:
            self.children.remove(child)
            child.discard()


_active: WarmPool | None = None


def configure(*, size: int, max_age_s: float = DEFAULT_MAX_AGE_S) -> WarmPool | None:
    """Keep ``size`` warm children in this process from its next run on (0: none, cold runs).

    For a long-lived worker process only: a one-off command would start a child it never
    uses. Children are discarded at exit (and die with their parent in any case).
    """
    global _active
    if active() is not None:
        _active.close()
    _active = WarmPool(size=size, max_age_s=max_age_s) if size > 0 else None
    return _active


def active() -> WarmPool | None:
    """This process's pool; None in a process forked from the one that made it (its children
    are the parent's: they are neither used nor killed here)."""
    global _active
    if _active is not None and _active.pid != os.getpid():
        _active = None
    return _active


@atexit.register
def _close_at_exit() -> None:
    if active() is not None:
        _active.close()


@contextlib.contextmanager
def launch_warm(
    job: ChildJob, *, code: Sequence[Bind], plugins: Sequence[str]
) -> Iterator[Launched | None]:
    """``job`` run by a warm child of this process's pool, or None: run it cold.

    A child waiting for this kind of job takes it; with none waiting one is started for the job.
    The next one starts while this one runs (or finishes warming up).
    """
    warm_pool = active()
    if warm_pool is None:
        yield None
        return
    key = key_of(job, plugins=plugins)
    cuda = job.device.startswith("cuda")
    refill = functools.partial(warm_pool.refill, key, code_binds=code, inputs=job.inputs, cuda=cuda)
    child, how = warm_pool.claim(key), "warm"
    if child is None:
        child, how = (
            warm_pool.start(key, code_binds=code, inputs=job.inputs, cuda=cuda),
            "on_demand",
        )
    # A child still warming up (a queue of small models): the next one starts now, on the
    # other cores. Otherwise after the hand-over, which it neither delays nor competes with.
    early = how == "warm" and child is not None and not child.ready()
    if early:
        refill()
    argv = child_argv(root=SANDBOX_ROOT, job=job, plugins=plugins)[3:]  # no interpreter, no -m
    taken = child is not None and child.hand_over(
        model_path=job.model_path, inputs=job.inputs, argv=argv
    )
    if not early:
        refill()
    warm_pool.served[how if taken else "cold"] += 1
    if not taken:
        if child is not None:
            child.discard()
        yield None
        return
    try:
        launched = Launched(out=child.out)
        try:
            launched.done = child.wait(timeout_s=job.timeout_s)
        except EvaluatorError as exc:
            launched.error = exc
        yield launched
    finally:
        child.discard()


def key_of_inputs(source: Path) -> str:
    """ "copy" for a small input directory (brought per job), else the bound directory's
    identity: its path, device, inode and change times (a recompiled set is another key)."""
    total, stamps = 0, []
    for path in sorted(source.rglob("*")):
        info = path.lstat()
        if stat.S_ISREG(info.st_mode):
            total += info.st_size
            stamps.append(f"{path.name}:{info.st_ino}:{info.st_mtime_ns}:{info.st_size}")
    if total <= COPY_MAX_BYTES:
        return "copy"
    info = source.stat()
    return f"{source.resolve()}:{info.st_dev}:{info.st_ino}:{','.join(stamps)}"


def _link_or_copy(src: str | os.PathLike, dst: str | os.PathLike) -> str:
    """A hard link where the file system allows one (no bytes copied), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
    return str(dst)
