"""The files of a sharded run: where each shard's logits and report live, written atomically.

A shard is a contiguous slice [start, stop) of the compiled images. Its worker writes the
checked logits and a small report to fixed file names in the shard directory the caller gives
(one per submission and attempt), each written to a temporary name and renamed into place, so a
reader sees a whole file or none and a repeated shard overwrites its own file with the same
content. The merge reads exactly one file per shard index, each checked (no pickle, the
expected shape). Cheap to import: the web process plans shards with ``shard_spans``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from evaluator.errors import EvaluatorError

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


def shard_done(*, directory: Path, index: int) -> bool:
    """Whether shard ``index``'s logits (and so its report) are already in place."""
    return logits_file(directory=directory, index=index).is_file()


def read_info(*, directory: Path, index: int) -> dict:
    """The report ``score_shard`` wrote for shard ``index``."""
    return _load_info(info_file(directory=directory, index=index))


def write_info(*, directory: Path, index: int, info: dict) -> None:
    """Shard ``index``'s report, renamed into place whole (written before its logits)."""
    _write_atomically(info_file(directory=directory, index=index), json.dumps(info).encode("utf-8"))


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
