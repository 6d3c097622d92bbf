"""The trusted parent's side: run one model in the sandbox child and take back only checked logits.

Everything the child leaves behind is untrusted input, read through ``outputs`` (no links, no
special files, size-capped): JSON must be an object, the logits a float array of exactly
(n_images, num_classes). The child may only report the model's own failures; a platform fault
(the sandbox did not start) is decided from what the parent observed. Any other ending becomes
an EvaluatorError with a stable code.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import evaluator
from evaluator import architectures, layout
from evaluator.errors import (
    DatasetError,
    EvaluatorError,
    ModelCheckError,
    ModelCrashed,
    ModelLoadError,
    ModelMemoryError,
    SandboxUnavailable,
)
from evaluator.formats.base import ModelFormat
from evaluator.sandbox import cgroup, outputs, protocol
from evaluator.sandbox.bwrap import Bind
from evaluator.sandbox.process import Completed, describe_signal, run_sandboxed

_TAIL_LINES = 15


@dataclass(frozen=True)
class ChildOutput:
    logits: np.ndarray  # float32 (n_images, num_classes)
    info: dict  # what the child reported: params, timings, device name, versions...
    sandbox: str  # "bwrap" or "none"
    wall_seconds: float  # start to exit of the child, model loading included (parent's clock)
    cgroup: str = "none"  # "v2", "v1", or "none: why" (then only per-process limits held)


def run_model(
    *,
    model_path: Path,
    fmt: ModelFormat,
    arch: str | None,
    images_dir: Path,
    num_classes: int,
    device: str = "cpu",
    batch_size: int = 256,
    precision: str = "fp32",
    timeout_s: float = 600,
    memory_mb: int | None = 8192,
    pids_max: int | None = cgroup.DEFAULT_PIDS_MAX,
    require_sandbox: bool = False,
    sandbox: str = "auto",
    start: int = 0,
    stop: int | None = None,
    robust: tuple[str, ...] = (),
    on_robust_logits: Callable[[str, np.ndarray], None] | None = None,
) -> ChildOutput:
    """Score ``model_path`` on the images in ``images_dir`` (a compiled set's ``images/``).

    ``memory_mb`` caps the child's address space on CPU runs; the memory-mapped images are
    added on top so the cap means the same for a small and a large test set. ``sandbox``
    forces "bwrap" or "none" (tests); "auto" uses bubblewrap where it works. ``start`` and
    ``stop`` score the contiguous slice [start, stop) only (one shard of a large set): the
    logits then have ``stop - start`` rows. ``robust`` names transformed copies under
    ``images_dir/robust/`` that the same child scores after the clean set (the model is loaded
    once); each one's checked logits are handed to ``on_robust_logits(name, logits)`` in turn,
    so the caller holds one transform's logits at a time.
    """
    model_path, images_dir = Path(model_path), Path(images_dir)
    images_file = images_dir / layout.IMAGES_FILE
    total = _count_images(images_dir)
    stop = total if stop is None else stop
    if not 0 <= start < stop <= total:
        raise DatasetError(f"images [{start}, {stop}) are not a slice of the {total} in the set")
    n_images = stop - start
    if not model_path.is_file():
        raise ModelLoadError(f"{model_path.name}: the model file does not exist")
    expected_bytes = n_images * num_classes * 4
    names = [protocol.LOGITS_FILE, protocol.INFO_FILE, protocol.ERROR_FILE]
    names += [protocol.robust_logits_file(name) for name in robust]
    with outputs.output_dir(names) as out:
        done = run_sandboxed(
            command=lambda root: _child_argv(
                root=root,
                fmt=fmt,
                arch=arch,
                device=device,
                batch_size=batch_size,
                precision=precision,
                span=None if (start, stop) == (0, total) else (start, stop),
                robust=robust,
            ),
            binds=[
                *code_binds(),
                Bind(model_path, "model"),
                Bind(images_dir, "images"),
                *out.binds(),
            ],
            timeout_s=timeout_s,
            memory_mb=None
            if memory_mb is None
            else memory_mb + (2 if robust else 1) * images_file.stat().st_size // 2**20,
            cuda=device.startswith("cuda"),
            file_mb=max(64, 2 * expected_bytes // 2**20 + 16),
            pids_max=pids_max,
            sandbox=sandbox,
            require_sandbox=require_sandbox,
        )
        collected = _collect(
            done=done, out=out, n_images=n_images, num_classes=num_classes, memory_mb=memory_mb
        )
        for name in robust:  # only the names asked for: the child chooses no file name
            logits = _read_logits(
                out.file(protocol.robust_logits_file(name)),
                n_images=n_images,
                num_classes=num_classes,
            )
            if on_robust_logits is not None:
                on_robust_logits(name, logits)
        return collected


def code_binds() -> list[Bind]:
    """Read-only binds of the platform's own code under ``lib/`` (the child's PYTHONPATH): the
    evaluator package, then each architecture plugin's module (``architecture_plugins``)."""
    evaluator_dir = Path(evaluator.__file__).resolve().parent
    return [Bind(evaluator_dir, "lib/evaluator"), *(bind for _, bind in architecture_plugins())]


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
        target = "lib/" + module.replace(".", "/")
        if spec.submodule_search_locations:  # a package: its directory
            found.append((value, Bind(Path(spec.origin).resolve().parent, target)))
        else:
            found.append((value, Bind(Path(spec.origin).resolve(), f"{target}.py")))
    return found


def _child_argv(
    *,
    root: str,
    fmt: ModelFormat,
    arch: str | None,
    device: str,
    batch_size: int,
    precision: str,
    span: tuple[int, int] | None = None,
    robust: tuple[str, ...] = (),
) -> list[str]:
    argv = [sys.executable, "-m", "evaluator.sandbox.child", "--model", f"{root}/model"]
    argv += ["--format", ModelFormat(fmt).value, "--images", f"{root}/images"]
    argv += ["--out", f"{root}/out", "--device", device]
    argv += ["--batch-size", str(batch_size), "--precision", precision]
    if arch:
        argv += ["--arch", arch]
    if span is not None:
        argv += ["--start", str(span[0]), "--stop", str(span[1])]
    if robust:
        argv += ["--robust", ",".join(robust)]
    plugins = [value for value, _ in architecture_plugins()]
    if plugins:
        argv += ["--plugins", ",".join(plugins)]
    return argv


def _count_images(images_dir: Path) -> int:
    """N, after the same checks the child's ``open_images`` makes.

    A damaged set is thus found here, by the trusted parent (a platform fault), and never
    taken from the child's word: the child cannot claim ``dataset_invalid``.
    """
    from evaluator.datasets import open_images

    try:
        images, _ = open_images(images_dir)
    except (DatasetError, OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        raise DatasetError(
            f"{images_dir}: not a compiled image set ({exc}; pass the set's images/ directory)"
        ) from exc
    if len(images) < 1:
        raise DatasetError(f"{images_dir}: the image set is empty")
    return len(images)


def _collect(
    *,
    done: Completed,
    out: outputs.OutputDir,
    n_images: int,
    num_classes: int,
    memory_mb: int | None,
) -> ChildOutput:
    observed = observed_failure(done, memory_mb=memory_mb)
    if observed is not None:
        raise observed
    reported = outputs.read_json(out.file(protocol.ERROR_FILE))
    if reported is not None:
        error = protocol.error_from_report(reported)
        if error is None:
            raise ModelCrashed(f"{protocol.unaccepted_report(reported)}{_tail(done.output)}")
        if isinstance(error, ModelMemoryError) and memory_mb:
            error = ModelMemoryError(f"{error.message} (limit {memory_mb} MB)")
        raise error
    if done.returncode != protocol.EXIT_OK or done.signal is not None:
        raise _ending_error(done, memory_mb=memory_mb)
    info = outputs.read_json(out.file(protocol.INFO_FILE))
    if info is None:
        raise ModelCrashed(f"the model's process exited without a report{_tail(done.output)}")
    logits = _read_logits(
        out.file(protocol.LOGITS_FILE), n_images=n_images, num_classes=num_classes
    )
    return ChildOutput(
        logits=logits,
        info=info,
        sandbox=done.sandbox,
        wall_seconds=done.wall_seconds,
        cgroup=done.cgroup,
    )


def observed_failure(done: Completed, *, memory_mb: int | None) -> EvaluatorError | None:
    """What the parent saw go wrong itself, whatever the child wrote or printed.

    The group's memory cap killing a process is the model's doing (bubblewrap's own monitor
    may be the one killed). Otherwise bubblewrap that exited by itself without reporting the
    command's exit failed its own setup: the platform's fault, the only refundable ending a
    run can have.
    """
    if done.oom_kills:
        limit = f" of {memory_mb} MB" if memory_mb else ""
        return ModelMemoryError(
            f"the model's processes used more than the run's memory cap{limit} and the kernel "
            f"stopped them{_tail(done.output)}"
        )
    if done.sandbox == "bwrap" and not done.started and done.signal is None:
        return SandboxUnavailable(
            f"bubblewrap could not start the sandbox (status {done.returncode}){_tail(done.output)}"
        )
    return None


def _ending_error(done: Completed, *, memory_mb: int | None) -> EvaluatorError:
    """An exit without error.json: a signal or an abort in native code."""
    tail = _tail(done.output)
    looks_oom = any(m in done.output.lower() for m in ("bad_alloc", "out of memory"))
    if done.signal is not None:
        name = describe_signal(done.signal)
        if name == "SIGKILL" or looks_oom:
            limit = f" (limit {memory_mb} MB)" if memory_mb else ""
            return ModelMemoryError(
                f"the model's process was killed ({name}); it may have run out of memory"
                f"{limit}{tail}"
            )
        if name == "SIGXFSZ":
            return ModelCrashed(f"the model's process wrote a file past the size limit{tail}")
        return ModelCrashed(f"the model's process died from signal {name}{tail}")
    if done.returncode == protocol.EXIT_MEMORY or looks_oom:
        return ModelMemoryError(f"the model ran out of memory{tail}")
    return ModelCrashed(f"the model's process exited with status {done.returncode}{tail}")


def _read_logits(path: Path, *, n_images: int, num_classes: int) -> np.ndarray:
    expected = (n_images, num_classes)
    try:
        logits = outputs.read_array(path, max_elements=n_images * num_classes)
    except outputs.UntrustedFile as exc:
        raise ModelCheckError(f"the model's process left unusable logits: {exc}") from None
    if logits is None:
        raise ModelCheckError(f"the model's process wrote no logits ({path.name} is empty)")
    if logits.shape != expected:
        raise ModelCheckError(
            f"expected logits of shape {expected} (images x classes), received {logits.shape}"
        )
    return logits


def _tail(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()][-_TAIL_LINES:]
    if not lines:
        return ""
    return ". Last output:\n" + protocol.clean_text("\n".join(lines), limit=2000)
