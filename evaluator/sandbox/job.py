"""One run of the sandboxed child, described: what it is given, how it runs, what it may write,
and its command line. Shared by the cold launcher (``runner``) and warm children (``pool``).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import evaluator
from evaluator import architectures
from evaluator.errors import EvaluatorError
from evaluator.formats.base import ModelFormat
from evaluator.sandbox import cgroup, outputs
from evaluator.sandbox.bwrap import Bind
from evaluator.sandbox.process import Completed


@dataclass(frozen=True)
class ChildJob:
    """One run of the sandboxed child: what it is given, how it runs, what it may write."""

    model_path: Path
    fmt: ModelFormat
    arch: str | None
    inputs: Bind  # the phase's input directory, read-only; its name is the child's flag
    args: tuple[str, ...]  # the phase's other arguments (--start/--stop, --robust)
    outputs: tuple[str, ...]  # the only files the child may write, pre-created
    device: str = "cpu"
    batch_size: int = 256
    precision: str = "fp32"
    timeout_s: float = 600
    memory_mb: int | None = 8192  # the run's cap as configured (and as messages state it)
    mapped_mb: int = 0  # memory-mapped inputs, added to the cap
    file_mb: int = 64  # the largest file a process may write
    pids_max: int | None = cgroup.DEFAULT_PIDS_MAX
    require_sandbox: bool = False
    sandbox: str = "auto"  # "bwrap" or "none" forced (tests); "auto": bubblewrap where it works
    out_prefix: str = "evaluator-out-"


@dataclass
class Launched:
    """What one run left: its output directory (removed when the ``launch`` block ends), how it
    ended, or the error that stopped it before it could end by itself (a timeout, no sandbox
    where one is required)."""

    out: outputs.OutputDir
    done: Completed | None = None
    error: EvaluatorError | None = None


def child_argv(*, root: str, job: ChildJob, plugins: Sequence[str] = ()) -> list[str]:
    """The child's command line, with sandbox paths under ``root``."""
    phase = job.inputs.name
    argv = [sys.executable, "-m", "evaluator.sandbox.child", "--model", f"{root}/model"]
    argv += ["--format", ModelFormat(job.fmt).value, f"--{phase}", f"{root}/{phase}"]
    argv += ["--out", f"{root}/out", "--device", job.device]
    argv += ["--batch-size", str(job.batch_size), "--precision", job.precision]
    if job.arch:
        argv += ["--arch", job.arch]
    argv += job.args
    if plugins:
        argv += ["--plugins", ",".join(plugins)]
    return argv


def code_binds() -> list[Bind]:
    """Read-only binds of the platform's own code under ``lib/`` (the child's PYTHONPATH): the
    evaluator package, then each architecture plugin's module (``architecture_plugins``)."""
    return [evaluator_bind(), *(bind for _, bind in architecture_plugins())]


def evaluator_bind() -> Bind:
    return Bind(Path(evaluator.__file__).resolve().parent, "lib/evaluator")


def architecture_plugins() -> list[tuple[str, Bind]]:
    """Each installed architecture plugin (``module:attr``) with the bind of its module.

    Only the plugin's own package (or module file) is bound, at its import path under ``lib/``:
    the rest of the project that installs it (recipes, data paths...) stays out. A plugin whose
    module cannot be found here is left out, as the registry leaves it out in this process.
    """
    found = []
    for value in architectures.plugins():
        module = value.partition(":")[0]
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin is None:
            continue
        origin, target = Path(spec.origin).resolve(), "lib/" + module.replace(".", "/")
        if spec.submodule_search_locations:  # a package: its directory
            found.append((value, Bind(origin.parent, target)))
        else:
            found.append((value, Bind(origin, target + origin.suffix)))
    return found
