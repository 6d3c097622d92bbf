"""``.npz`` archives: uint8 ``images`` (N, H, W) or (N, H, W, C) and integer ``labels`` (N,).

Loaded with ``allow_pickle=False``: an object array in the archive would run code when
unpickled, so it is refused instead. An optional ``class_names`` string array names the classes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from evaluator.datasets.base import (
    Source,
    checked_labels,
    pick_split_file,
    require_pixel_array,
    require_same_count,
)
from evaluator.errors import DatasetError


def find_npz(source: Path, *, split: str) -> Path:
    if source.is_file():
        return source
    if not source.is_dir():
        raise DatasetError(f"{source}: no such file or directory")
    candidates = sorted(p for p in source.iterdir() if p.suffix == ".npz" and p.is_file())
    return pick_split_file(candidates, split=split, what="npz archive", where=source)


def load_member(archive: np.lib.npyio.NpzFile, key: str, *, path: Path) -> np.ndarray:
    try:
        return archive[key]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DatasetError(
                f"{path}: '{key}' is an object array, which would need pickle to load; "
                "store plain numeric arrays"
            ) from exc
        raise DatasetError(f"{path}: cannot read '{key}': {exc}") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: cannot read '{key}': {exc}") from exc


def read_npz_source(source: Path, *, split: str = "test", limit: int | None = None) -> Source:
    path = find_npz(source, split=split)
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: not a readable .npz archive: {exc}") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DatasetError(f"{path}: a single .npy array, expected an .npz with images and labels")
    with archive:
        missing = [k for k in ("images", "labels") if k not in archive.files]
        if missing:
            raise DatasetError(
                f"{path}: missing array(s) {', '.join(missing)}; found {', '.join(archive.files)}"
            )
        images = load_member(archive, "images", path=path)
        raw_labels = load_member(archive, "labels", path=path)
        names = None
        if "class_names" in archive.files:
            raw_names = load_member(archive, "class_names", path=path)
            if raw_names.dtype.kind != "U" or raw_names.ndim != 1:
                raise DatasetError(f"{path}: 'class_names' must be a 1-D string array")
            names = [str(s) for s in raw_names]
    if images.ndim == 4 and images.shape[-1] not in (1, 3) and images.shape[1] in (1, 3):
        raise DatasetError(f"{path}: images look channels-first {images.shape}; store (N, H, W, C)")
    pixels = require_pixel_array(images, path=path, channels_last=True)
    require_same_count(
        images=pixels.shape[0], labels=len(raw_labels), images_path=path, labels_path=path
    )
    labels = checked_labels(raw_labels, path=path)
    if names is not None and labels.size and labels.max() >= len(names):
        raise DatasetError(f"{path}: {len(names)} class names, but labels go up to {labels.max()}")
    if limit is not None:
        pixels, labels = pixels[:limit], labels[:limit]
    return Source(fmt="npz", path=path, labels=labels, pixels=pixels, class_names=names)
