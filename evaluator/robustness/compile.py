"""Compile the robustness track's transformed copies of a hidden set, once, atomically.

    DIR/images/robust/<transform>.npy   uint8 (N, C, H, W), one per transform of the catalogue
    DIR/images/robust/meta.json         transforms and parameters, per-file SHA-256, fingerprint

Every copy is written into a hidden temporary sibling and renamed into place only once all of
them are complete, so a failed or interrupted compile (Ctrl-C included) leaves no half-written
set for a worker to score. The bytes depend only on the compiled set and the catalogue (noise is
seeded per image), so compiling twice gives the same files, and two workers racing to compile
the same set end up with one. ``meta.json`` names the fingerprint of the set it was made from:
copies of a set that has since been re-imported, or made with other parameters, are stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from evaluator import layout, robustness
from evaluator.datasets.store import check_array, load_array, open_images, read_json
from evaluator.errors import DatasetError

CHUNK_BYTES = 16 * 2**20  # images handed to a transform at once
META_FILE = "meta.json"


@dataclass(frozen=True)
class RobustSets:
    """What a compiled set's ``robust/meta.json`` says (checked against the set itself)."""

    directory: Path
    names: tuple[str, ...]
    fingerprint: str  # over the source set's fingerprint, the transforms and every file
    meta: dict


def robust_file(images_dir: Path, name: str) -> Path:
    return Path(images_dir) / layout.ROBUST_DIR / f"{robustness.get(name).name}.npy"


def compile_robust_sets(
    *,
    dataset_dir: Path,
    names: tuple[str, ...] = robustness.NAMES,
    overwrite: bool = False,
    progress: bool = False,
) -> RobustSets:
    """Write the transformed copies of the set at ``dataset_dir``; return what is in place.

    Copies that are already there and current are kept as they are, unless ``overwrite``.
    """
    images_dir = layout.images_dir(Path(dataset_dir))
    images, meta = open_images(images_dir)
    out = images_dir / layout.ROBUST_DIR
    if not overwrite and out.exists():
        try:
            return read_robust_sets(images_dir=images_dir, names=names)
        except DatasetError:
            pass  # stale or damaged: compiled again below
    tmp = Path(tempfile.mkdtemp(prefix=f".{layout.ROBUST_DIR}.tmp-", dir=images_dir))
    try:
        digests = {
            name: _write_copy(images, name=name, path=tmp / f"{name}.npy", progress=progress)
            for name in names
        }
        (tmp / META_FILE).write_text(
            _meta_json(names=names, source=meta, shape=images.shape, digests=digests),
            encoding="utf-8",
        )
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the copies are shared read-only
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return read_robust_sets(images_dir=images_dir, names=names)


def ensure_robust_sets(
    *, dataset_dir: Path, names: tuple[str, ...] = robustness.NAMES
) -> RobustSets:
    """The current copies, compiled first if absent or stale (a worker's fallback)."""
    try:
        return read_robust_sets(images_dir=layout.images_dir(Path(dataset_dir)), names=names)
    except DatasetError:
        return compile_robust_sets(dataset_dir=dataset_dir, names=names, overwrite=True)


def read_robust_sets(*, images_dir: Path, names: tuple[str, ...]) -> RobustSets:
    """The copies' metadata, or DatasetError when absent, stale, incomplete or malformed.

    Cheap: no pixel is read (the digests are checked by ``verify_robust_sets``).
    """
    images_dir = Path(images_dir)
    directory = images_dir / layout.ROBUST_DIR
    clean, source = open_images(images_dir)
    meta = read_json(directory / META_FILE)
    if meta.get("format_version") != layout.ROBUST_FORMAT_VERSION:
        raise DatasetError(f"{directory}: robust copies of another format version")
    if meta.get("source_fingerprint") != source["fingerprint"]:
        raise DatasetError(f"{directory}: made from another version of the set (stale)")
    listed = {t.get("name"): t for t in meta.get("transforms") or [] if isinstance(t, dict)}
    for name in names:
        if listed.get(name) != robustness.get(name).to_dict():
            raise DatasetError(f"{directory}: {name} is missing or has other parameters")
        path = directory / f"{name}.npy"
        check_array(path, load_array(path, mmap=True), dtype=np.uint8, shape=clean.shape)
    return RobustSets(
        directory=directory, names=tuple(names), fingerprint=str(meta["fingerprint"]), meta=meta
    )


def verify_robust_sets(robust: RobustSets) -> None:
    """Re-hash every copy against its recorded digest (a full read: for audits and tests)."""
    for name in robust.names:
        path = robust.directory / f"{name}.npy"
        if _array_digest(load_array(path, mmap=True)) != robust.meta["digests"][name]:
            raise DatasetError(f"{path}: content does not match its digest")


def open_robust_images(*, images_dir: Path, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One copy, memory-mapped read-only and checked against the clean set's ``shape``.

    This is what the sandboxed child calls: it reads ``images/`` only.
    """
    path = robust_file(images_dir, name)
    images = load_array(path, mmap=True)
    check_array(path, images, dtype=np.uint8, shape=tuple(shape))
    return images


def _write_copy(images: np.ndarray, *, name: str, path: Path, progress: bool) -> str:
    """Transform every image into a new .npy at ``path``, chunk by chunk; returns its digest."""
    import torch  # only to compile: reading current copies (every score after the first) needs none

    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=images.shape)
    per_image = max(1, int(np.prod(images.shape[1:])))
    step = max(1, CHUNK_BYTES // per_image)
    bar = tqdm(total=len(images), unit="img", desc=name, disable=not progress, leave=False)
    with bar, torch.inference_mode():
        for lo in range(0, len(images), step):
            hi = min(lo + step, len(images))
            out[lo:hi] = robustness.apply_numpy(name, images[lo:hi], first_index=lo)
            bar.update(hi - lo)
    out.flush()
    digest = _array_digest(out)
    del out
    return digest


def _array_digest(array: np.ndarray) -> str:
    digest = hashlib.sha256(json.dumps(list(array.shape)).encode())
    rows = max(1, CHUNK_BYTES // max(1, int(np.prod(array.shape[1:]))))
    for lo in range(0, len(array), rows):
        digest.update(np.ascontiguousarray(array[lo : lo + rows]).data)
    return digest.hexdigest()


def _meta_json(
    *, names: tuple[str, ...], source: dict, shape: tuple[int, ...], digests: dict[str, str]
) -> str:
    """No time stamps or paths: the same set and catalogue give the same bytes."""
    transforms = robustness.catalogue(names)
    body = {
        "source_fingerprint": source["fingerprint"],
        "transforms": transforms,
        "digests": digests,
    }
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    meta = {
        "format_version": layout.ROBUST_FORMAT_VERSION,
        "n": int(shape[0]),
        "shape": [int(v) for v in shape],
        "fingerprint": fingerprint,
        "summary": "mean top-1 error over the corruptions; controls excluded",
        "corruptions": [t["name"] for t in transforms if not t["control"]],
        **body,
    }
    return json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def move_into_place(tmp: Path, out: Path) -> None:
    """The importer's atomic rename, imported on first use: the importer loads torchvision."""
    from evaluator.datasets.importer import move_into_place as move

    move(tmp, out)


def _move_into_place(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``; if another process got there first with current copies, keep
    theirs (the same bytes) and drop ours."""
    try:
        move_into_place(tmp, out)
    except OSError:
        if not (out / META_FILE).is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
