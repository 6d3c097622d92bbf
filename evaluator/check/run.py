"""Check a model file on public sample images before it costs a submission.

The model runs exactly as a scored submission runs: its format found by the same
``detect_format``, the same child phase (``evaluator.sandbox.child``'s scoring) started by the
same launcher (``evaluator.sandbox.runner.run_model``) under the same limits, its logits read
back and checked by the same code. Only the set differs: a temporary one holding the samples
the caller passes, images only (their labels stay here), so the hidden test set is never
mounted. Whatever stops a scored run therefore stops the check with the same error code and
message, and no second copy of any check or message exists to drift apart.

Nothing here raises for a problem of the model: it becomes the report's error. A platform
fault (no sandbox where one is required, a damaged set) raises, as it does in scoring.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import numpy as np

from evaluator import layout
from evaluator.check.report import CheckReport, sample_checks
from evaluator.datasets.store import write_json
from evaluator.errors import (
    DatasetError,
    EvaluatorError,
    ModelCheckError,
    ModelLoadError,
    SandboxUnavailable,
    UnsupportedFormat,
)
from evaluator.formats.detect import detect_format
from evaluator.sandbox.cgroup import DEFAULT_PIDS_MAX
from evaluator.sandbox.runner import run_model
from evaluator.spec import InputSpec

MAX_SAMPLES = 64  # a check should take seconds: the samples are shown, not scored
# The faults scoring refunds: raised, never reported as the model's.
PLATFORM_FAULTS = (SandboxUnavailable, DatasetError)


def check_model(
    *,
    model_path: Path,
    arch: str | None,
    samples: np.ndarray,
    labels: list[int] | np.ndarray,
    class_names: list[str],
    spec: InputSpec,
    num_classes: int,
    device: str = "cpu",
    timeout_s: float = 120,
    memory_mb: int | None = 8192,
    pids_max: int | None = DEFAULT_PIDS_MAX,
    precision: str = "fp32",
    require_sandbox: bool = False,
    batch_size: int = 256,
    max_samples: int = MAX_SAMPLES,
) -> CheckReport:
    """Run ``model_path`` on labelled public ``samples`` (uint8 N x C x H x W) as scoring would.

    Returns the report; raises ValueError for arguments that break the contract (shapes, labels,
    class names) and SandboxUnavailable or DatasetError for a platform fault, as ``score`` does.
    """
    model_path = Path(model_path)
    samples, labels_arr = checked_samples(
        samples, labels, spec=spec, class_names=class_names, num_classes=num_classes
    )
    samples, labels_arr = samples[:max_samples], labels_arr[:max_samples]
    expected = (len(samples), num_classes)
    try:
        fmt = detect_format(model_path)
    except EvaluatorError as exc:  # unsupported, or a pickle refused unopened
        return _failed(exc, fmt=None, expected=expected)
    work = Path(tempfile.mkdtemp(prefix="evaluator-check-"))
    try:
        ran = run_model(
            model_path=model_path,
            fmt=fmt,
            arch=arch,
            images_dir=sample_set(work, samples=samples, spec=spec, class_names=class_names),
            num_classes=num_classes,
            device=device,
            batch_size=batch_size,
            precision=precision,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            pids_max=pids_max,
            require_sandbox=require_sandbox,
        )
    except PLATFORM_FAULTS:
        raise
    except EvaluatorError as exc:
        return _failed(exc, fmt=fmt.value, expected=expected)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return CheckReport(
        format=fmt.value,
        format_recognised=True,
        loads=True,
        expected_shape=expected,
        output_shape=tuple(int(d) for d in ran.logits.shape),
        samples=sample_checks(logits=ran.logits, labels=labels_arr, class_names=class_names),
        nonfinite_rows=int((~np.isfinite(ran.logits)).any(axis=1).sum()),
        seconds_per_image=ran.wall_seconds / len(samples),
        wall_seconds=ran.wall_seconds,
        sandbox=ran.sandbox,
    )


def checked_samples(
    samples: np.ndarray,
    labels: list[int] | np.ndarray,
    *,
    spec: InputSpec,
    class_names: list[str],
    num_classes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The samples as contiguous uint8 and the labels as int64, or ValueError saying why not."""
    if len(class_names) != num_classes:
        raise ValueError(f"need {num_classes} class names, got {len(class_names)}")
    expected = (spec.channels, spec.height, spec.width)
    samples = np.asarray(samples)
    if samples.dtype != np.uint8 or samples.ndim != 4 or samples.shape[1:] != expected:
        raise ValueError(f"samples must be uint8 (N, {', '.join(map(str, expected))})")
    labels_arr = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(samples) == 0 or len(labels_arr) != len(samples):
        raise ValueError("need at least one sample image and one label per image")
    if labels_arr.min() < 0 or labels_arr.max() >= num_classes:
        raise ValueError(f"sample labels must lie in 0..{num_classes - 1}")
    return np.ascontiguousarray(samples), labels_arr


def sample_set(root: Path, *, samples: np.ndarray, spec: InputSpec, class_names: list[str]) -> Path:
    """A set's ``images/`` directory holding the samples only: what the child may read.

    Its meta is a compiled set's (``evaluator.layout``); the digest covers the pixels alone,
    since no label is written here.
    """
    images_dir = layout.images_dir(root)
    images_dir.mkdir(parents=True)
    np.save(images_dir / layout.IMAGES_FILE, samples)
    write_json(
        images_dir / layout.META_FILE,
        {
            "format_version": layout.FORMAT_VERSION,
            "n": len(samples),
            "num_classes": len(class_names),
            "class_names": list(class_names),
            "spec": spec.to_dict(),
            "fingerprint": hashlib.sha256(samples.tobytes()).hexdigest(),
            "dtype": "uint8",
            "shape": list(samples.shape),
        },
    )
    return images_dir


def _failed(exc: EvaluatorError, *, fmt: str | None, expected: tuple[int, int]) -> CheckReport:
    """The report of a run the model's failure stopped, with scoring's code and message."""
    if isinstance(exc, UnsupportedFormat | ModelLoadError):  # a pickle refusal included
        loads: bool | None = False
    elif isinstance(exc, ModelCheckError):  # raised only once the model is loaded
        loads = True
    else:  # a timeout, a crash, a memory blow-up: during loading or after, nobody says
        loads = None
    return CheckReport(
        format=fmt,
        format_recognised=fmt is not None,
        loads=loads,
        expected_shape=expected,
        error_code=exc.code,
        error_message=exc.message,
    )
