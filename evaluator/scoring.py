"""score(): one model on one compiled hidden test set, end to end.

The trusted parent opens the labels, detects the format from the file's content, hands the
model and the images (never the labels) to a sandboxed child, then computes every metric itself
from the logits the child returns. The result is a plain JSON-serialisable dict: the metrics
plus the reproducibility record stored with every score.
"""

from __future__ import annotations

import hashlib
import math
import platform
from importlib import metadata
from pathlib import Path

from evaluator import hardware, layout
from evaluator.datasets import open_dataset
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import detect_format
from evaluator.formats.params import stored_values
from evaluator.metrics import classification_report
from evaluator.sandbox.cgroup import DEFAULT_PIDS_MAX
from evaluator.sandbox.runner import run_model

# 2: params counted by the parent (params_source), throughput measured by the parent
# (throughput_source), the child's own rate kept apart (reported_throughput_img_s).
RECORD_VERSION = 2


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def library_versions() -> dict[str, str | None]:
    """Versions in the trusted parent's environment (the child runs the same one)."""
    return {
        "python": platform.python_version(),
        "torch": _version("torch"),
        "torchvision": _version("torchvision"),
        "onnxruntime": _version("onnxruntime") or _version("onnxruntime-gpu"),
        "numpy": _version("numpy"),
    }


def score(
    *,
    dataset_dir: Path,
    model_path: Path,
    arch: str | None = None,
    device: str = "cpu",
    timeout_s: float = 600,
    memory_mb: int | None = 8192,
    pids_max: int | None = DEFAULT_PIDS_MAX,
    precision: str = "fp32",
    batch_size: int = 256,
    require_sandbox: bool = False,
    bootstrap_seed: int = 0,
) -> dict:
    """Score ``model_path`` on the compiled set at ``dataset_dir``.

    Raises an EvaluatorError subclass (with a stable ``code``) for anything about the model or
    the data: an unsupported or pickled file, a failed check, a timeout, a memory blow-up, a
    crash of the model's process.
    """
    dataset_dir, model_path = Path(dataset_dir), Path(model_path)
    dataset = open_dataset(dataset_dir)
    fmt = detect_format(model_path)
    child = run_model(
        model_path=model_path,
        fmt=fmt,
        arch=arch,
        images_dir=layout.images_dir(dataset_dir),
        num_classes=dataset.num_classes,
        device=device,
        batch_size=batch_size,
        precision=precision,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        pids_max=pids_max,
        require_sandbox=require_sandbox,
    )
    report = classification_report(
        logits=child.logits,
        labels=dataset.labels,
        public_mask=dataset.public_mask,
        num_classes=dataset.num_classes,
        seed=bootstrap_seed,
    )
    return {
        **report,
        **run_record(
            model_path=model_path,
            fmt=fmt,
            arch=arch,
            dataset_fingerprint=dataset.fingerprint,
            device=device,
            precision=precision,
            info=child.info,
            wall_seconds=child.wall_seconds,
            n_images=dataset.n,
            sandbox=child.sandbox,
            cgroup=child.cgroup,
        ),
    }


def run_record(
    *,
    model_path: Path,
    fmt: ModelFormat,
    arch: str | None,
    dataset_fingerprint: str,
    device: str,
    precision: str,
    info: dict,
    wall_seconds: float,
    n_images: int,
    sandbox: str,
    cgroup: str,
    device_name: str | None = None,
) -> dict:
    """The reproducibility record stored beside the metrics (shared with the shard merge).

    ``info`` is what the child reported about itself: the child runs the participant's code,
    so its figures are kept only as claims. The parent counts the stored values from the file
    (``params_source`` "file"; "model" when only the child's claim exists) and measures the
    throughput itself: ``n_images`` the child ran through the model in ``wall_seconds`` (the
    parent's clock, start to exit of the child, loading included). The device is named by
    the parent too (``device_name`` where another machine ran it, as for shards), and
    ``cgroup`` says whether the run's whole-run caps held ("v1", "v2", "none: why").
    """
    params, params_source = stored_values(path=model_path, fmt=fmt), "file"
    if params is None:
        claimed = info.get("params")
        ok = type(claimed) is int and claimed >= 0
        params, params_source = (claimed, "model") if ok else (None, None)
    throughput = n_images / wall_seconds if n_images > 0 and wall_seconds > 0 else None
    return {
        "record_version": RECORD_VERSION,
        "model_sha256": file_sha256(model_path),
        "dataset_fingerprint": dataset_fingerprint,
        "format": fmt.value,
        "arch": arch,
        "device": device_name or hardware.device_name(device),
        "device_kind": device,
        "precision": str(info.get("precision") or precision),
        "batch_size": info.get("batch_size"),
        "params": params,
        "params_source": params_source,
        "throughput_img_s": throughput,
        "throughput_source": "parent" if throughput is not None else None,
        "reported_throughput_img_s": _claimed_number(info.get("images_per_second")),
        "inference_seconds": _claimed_number(info.get("seconds")),
        "wall_seconds": wall_seconds,
        "sandbox": sandbox,
        "cgroup": cgroup,
        "versions": library_versions(),
    }


def _claimed_number(value: object) -> float | None:
    """A figure the child reported, kept if it is a finite non-negative number."""
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        return None
    return float(value)
