"""A large hidden set scored as shards on several workers, merged into one single-run result.

A shard is a contiguous slice [start, stop) of the compiled images. ``score_shard`` runs the
same sandboxed child as ``score()`` on that slice only and, in the trusted parent, writes the
checked logits and a small report to fixed file names in the shard directory the caller gives
(one per submission and attempt), each written to a temporary name and renamed into place, so a
reader sees a whole file or none and a repeated shard overwrites its own file with the same
content. ``merge_shards`` loads exactly one file per shard index, in order, and calls the same
``classification_report`` as ``score()``: counts, confusion matrix and bootstrap intervals are
those of one worker scoring the whole set.

Like the rest of the evaluator this never touches a database or a queue.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluator import hardware, layout
from evaluator.errors import EvaluatorError
from evaluator.sandbox.cgroup import DEFAULT_PIDS_MAX

# Scoring and merging import torch (through the data sets and the sandbox runner) inside the
# functions, so that planning shards (``shard_spans``) stays cheap for the web process.

Span = tuple[int, int]
_HEADER_SLACK = 64 * 1024


class ShardMissing(EvaluatorError):
    """A shard's file is absent or unreadable when the merge needs it (not the model's fault)."""

    code = "shard_missing"


def shard_spans(*, n_images: int, shard_size: int) -> list[Span]:
    """[start, stop) of each shard: ``shard_size`` images each, the last one shorter."""
    if n_images < 1 or shard_size < 1:
        raise ValueError(f"cannot cut {n_images} images into shards of {shard_size}")
    return [(lo, min(lo + shard_size, n_images)) for lo in range(0, n_images, shard_size)]


def logits_file(*, directory: Path, index: int) -> Path:
    """Where shard ``index``'s logits live: the name depends on nothing but the index."""
    return Path(directory) / f"shard-{index:05d}.npy"


def info_file(*, directory: Path, index: int) -> Path:
    return Path(directory) / f"shard-{index:05d}.json"


def score_shard(
    *,
    dataset_dir: Path,
    model_path: Path,
    arch: str | None,
    span: Span,
    index: int,
    directory: Path,
    device: str = "cpu",
    timeout_s: float = 600,
    memory_mb: int | None = 8192,
    pids_max: int | None = DEFAULT_PIDS_MAX,
    precision: str = "fp32",
    batch_size: int = 256,
    require_sandbox: bool = False,
) -> dict:
    """Score images [start, stop) of the set; write the logits and the run's report; return it.

    The report (device, timings, sandbox) is written before the logits, so a present logits
    file always has its report. Raises the same EvaluatorErrors as ``score()``.
    """
    from evaluator.formats.detect import detect_format
    from evaluator.sandbox.runner import run_model

    start, stop = span
    images_dir = layout.images_dir(dataset_dir)
    num_classes = _num_classes(images_dir)
    child = run_model(
        model_path=Path(model_path),
        fmt=detect_format(Path(model_path)),
        arch=arch,
        images_dir=images_dir,
        num_classes=num_classes,
        device=device,
        batch_size=batch_size,
        precision=precision,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        pids_max=pids_max,
        require_sandbox=require_sandbox,
        start=start,
        stop=stop,
    )
    info = {
        **child.info,
        "index": index,
        "start": start,
        "stop": stop,
        "wall_seconds": child.wall_seconds,
        "sandbox": child.sandbox,
        "cgroup": child.cgroup,
        "host_device": hardware.device_name(device),  # named by this parent, not the child
    }
    Path(directory).mkdir(parents=True, exist_ok=True)
    _write_atomically(info_file(directory=directory, index=index), json.dumps(info).encode("utf-8"))
    save_logits(logits_file(directory=directory, index=index), child.logits)
    return info


def shard_done(*, directory: Path, index: int) -> bool:
    """Whether shard ``index``'s logits (and so its report) are already in place."""
    return logits_file(directory=directory, index=index).is_file()


def read_info(*, directory: Path, index: int) -> dict:
    """The report ``score_shard`` wrote for shard ``index``."""
    return _load_info(info_file(directory=directory, index=index))


def save_logits(path: Path, logits: np.ndarray) -> None:
    """np.save to a temporary file in the same directory, then rename it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, np.ascontiguousarray(logits, dtype=np.float32), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_logits(path: Path, *, rows: int, num_classes: int) -> np.ndarray:
    """One shard's logits, checked: float32 (rows, num_classes), no pickle."""
    try:
        if path.stat().st_size > rows * num_classes * 4 + _HEADER_SLACK:
            raise ShardMissing(f"{path}: larger than {rows} x {num_classes} logits")
        logits = np.load(path, allow_pickle=False)
    except FileNotFoundError as exc:
        raise ShardMissing(f"{path}: missing") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise ShardMissing(f"{path}: unreadable: {exc}") from exc
    if logits.dtype != np.float32 or logits.shape != (rows, num_classes):
        raise ShardMissing(
            f"{path}: {logits.dtype} {logits.shape}, expected float32 {(rows, num_classes)}"
        )
    return logits


def merge_shards(
    *,
    dataset_dir: Path,
    model_path: Path,
    arch: str | None,
    spans: Sequence[Span],
    directory: Path,
    device: str = "cpu",
    precision: str = "fp32",
    bootstrap_seed: int = 0,
) -> dict:
    """The result ``score()`` would return, from the shards' files; one file per index.

    ``spans`` must tile the set in order. Raises ShardMissing when a shard's files are absent.
    """
    from evaluator.datasets import open_dataset
    from evaluator.formats.detect import detect_format
    from evaluator.metrics import classification_report
    from evaluator.scoring import run_record

    dataset = open_dataset(Path(dataset_dir))
    _check_tiling(spans, n_images=dataset.n)
    logits = np.empty((dataset.n, dataset.num_classes), dtype=np.float32)
    infos = []
    for index, (start, stop) in enumerate(spans):
        infos.append(read_info(directory=directory, index=index))
        logits[start:stop] = load_logits(
            logits_file(directory=directory, index=index),
            rows=stop - start,
            num_classes=dataset.num_classes,
        )
    report = classification_report(
        logits=logits,
        labels=dataset.labels,
        public_mask=dataset.public_mask,
        num_classes=dataset.num_classes,
        seed=bootstrap_seed,
    )
    record = run_record(
        model_path=Path(model_path),
        fmt=detect_format(Path(model_path)),
        arch=arch,
        dataset_fingerprint=dataset.fingerprint,
        device=str(infos[0].get("device") or device),  # what the shards ran on, not this host
        device_name=" + ".join(sorted({str(i.get("host_device") or device) for i in infos})),
        precision=precision,
        info=combined_info(infos),
        # The parent's clock on each shard (its child's start to exit, loading included), summed:
        # the work the whole set cost, as one run would have measured it.
        wall_seconds=sum(float(i.get("wall_seconds") or 0) for i in infos),
        n_images=dataset.n,
        sandbox="bwrap" if all(i.get("sandbox") == "bwrap" for i in infos) else "none",
        cgroup=_common(infos, "cgroup"),
    )
    return {**report, **record, "shards": [shard_summary(i) for i in infos]}


def _common(infos: Sequence[dict], key: str) -> str:
    """One shard-level word for the whole run: the shards' own when they agree."""
    values = sorted({str(i.get(key) or "none") for i in infos})
    return values[0] if len(values) == 1 else "mixed: " + ", ".join(values)


def combined_info(infos: Sequence[dict]) -> dict:
    """One run's worth of facts from several: summed time, the devices used, the first batch."""
    seconds = sum(float(i.get("seconds") or 0) for i in infos)
    n = sum(int(i["stop"]) - int(i["start"]) for i in infos)
    devices = sorted({str(i.get("device_name") or "") for i in infos} - {""})
    first = infos[0] if infos else {}
    return {
        "device_name": " + ".join(devices),
        "precision": first.get("precision"),
        "batch_size": first.get("batch_size"),
        "params": first.get("params"),
        "seconds": seconds,
        # The children's own rate over their summed inference time: a claim, recorded as the
        # reported throughput only.
        "images_per_second": n / seconds if seconds > 0 else None,
    }


def shard_summary(info: dict) -> dict:
    keys = ("index", "start", "stop", "device_name", "seconds", "images_per_second")
    return {key: info.get(key) for key in (*keys, "wall_seconds", "sandbox", "cgroup")}


def _check_tiling(spans: Sequence[Span], *, n_images: int) -> None:
    expected = 0
    for start, stop in spans:
        if start != expected or stop <= start:
            raise ValueError(f"shards {list(spans)} do not tile 0..{n_images} in order")
        expected = stop
    if expected != n_images:
        raise ValueError(f"shards {list(spans)} end at {expected}, the set has {n_images}")


def _load_info(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ShardMissing(f"{path}: missing") from exc
    except (OSError, ValueError) as exc:
        raise ShardMissing(f"{path}: unreadable: {exc}") from exc
    if not isinstance(value, dict):
        raise ShardMissing(f"{path}: not a JSON object")
    return value


def _num_classes(images_dir: Path) -> int:
    from evaluator.datasets.store import parse_images_meta

    meta, _spec = parse_images_meta(Path(images_dir) / layout.META_FILE)
    return int(meta["num_classes"])


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
