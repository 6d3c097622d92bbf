"""The trusted parent's side of every sandboxed run: the one launcher of the child, and the
scoring phase's reading of what it leaves behind.

``launch`` runs ``python -m evaluator.sandbox.child`` once for any phase (scoring a compiled
set, with its optional image range and robustness copies, or the insights phase on public
samples): one argv builder, the platform's code and the architecture plugins bound under
``lib/``, the model, the phase's input directory, and an output directory whose pre-created
files are the only ones the child may write. ``run_model`` is the scoring phase.

Everything the child leaves behind is untrusted input, read through ``outputs`` (no links, no
special files, size-capped): JSON must be an object, the logits a float array of exactly
(n_images, num_classes). The child may only report the model's own failures; a platform fault
(the sandbox did not start) is decided from what the parent observed (``observed_failure``).
Any other ending becomes an EvaluatorError with a stable code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluator import layout
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
from evaluator.sandbox import cgroup, outputs, pool, protocol
from evaluator.sandbox.bwrap import Bind
from evaluator.sandbox.job import (  # noqa: F401  (re-exported: the launcher's public names)
    ChildJob,
    Launched,
    architecture_plugins,
    child_argv,
    code_binds,
    evaluator_bind,
)
from evaluator.sandbox.process import Completed, describe_signal, run_sandboxed

_TAIL_LINES = 15


@contextlib.contextmanager
def launch(job: ChildJob) -> Iterator[Launched]:
    """Run the child once for ``job``; read what it left inside the ``with`` block.

    Where this process keeps warm children (``pool.configure``), a matching one takes the job
    and the next one starts at once; any other case runs cold, as before.
    What the child wrote, printed or claims is for the caller to read as untrusted input;
    ``observed_failure`` says what the parent saw go wrong itself.
    """
    plugins = architecture_plugins()
    values = [value for value, _ in plugins]
    binds = [evaluator_bind(), *(bind for _, bind in plugins)]
    with pool.launch_warm(job, code=binds, plugins=values) as launched:
        if launched is not None:
            yield launched
            return
    with outputs.output_dir(job.outputs, prefix=job.out_prefix) as out:
        launched = Launched(out=out)
        try:
            launched.done = run_sandboxed(
                command=lambda root: child_argv(root=root, job=job, plugins=values),
                binds=[*binds, Bind(job.model_path, "model"), job.inputs, *out.binds()],
                timeout_s=job.timeout_s,
                memory_mb=None if job.memory_mb is None else job.memory_mb + job.mapped_mb,
                cuda=job.device.startswith("cuda"),
                file_mb=job.file_mb,
                pids_max=job.pids_max,
                sandbox=job.sandbox,
                require_sandbox=job.require_sandbox,
            )
        except EvaluatorError as exc:
            launched.error = exc
        yield launched


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


def _tail(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()][-_TAIL_LINES:]
    if not lines:
        return ""
    return ". Last output:\n" + protocol.clean_text("\n".join(lines), limit=2000)


# The scoring phase: a compiled set's images, checked logits back.


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
    args = [] if (start, stop) == (0, total) else ["--start", str(start), "--stop", str(stop)]
    args += ["--robust", ",".join(robust)] if robust else []
    job = ChildJob(
        model_path=model_path,
        fmt=fmt,
        arch=arch,
        inputs=Bind(images_dir, "images"),
        args=tuple(args),
        outputs=(
            protocol.LOGITS_FILE,
            protocol.INFO_FILE,
            protocol.ERROR_FILE,
            *(protocol.robust_logits_file(name) for name in robust),
        ),
        device=device,
        batch_size=batch_size,
        precision=precision,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        # The memory-mapped images count against the cap: two sets at once with the copies.
        mapped_mb=(2 if robust else 1) * images_file.stat().st_size // 2**20,
        file_mb=max(64, 2 * expected_bytes // 2**20 + 16),
        pids_max=pids_max,
        require_sandbox=require_sandbox,
        sandbox=sandbox,
    )
    with launch(job) as launched:
        if launched.error is not None:
            raise launched.error
        collected = _collect(
            done=launched.done,
            out=launched.out,
            n_images=n_images,
            num_classes=num_classes,
            memory_mb=memory_mb,
        )
        for name in robust:  # only the names asked for: the child chooses no file name
            logits = _read_logits(
                launched.out.file(protocol.robust_logits_file(name)),
                n_images=n_images,
                num_classes=num_classes,
            )
            if on_robust_logits is not None:
                on_robust_logits(name, logits)
        return collected


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
