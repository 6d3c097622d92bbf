"""One entry point over the per-format readers."""

from __future__ import annotations

from pathlib import Path

from evaluator.datasets.base import Source
from evaluator.datasets.cifar import read_cifar_source
from evaluator.datasets.idx import read_idx_source
from evaluator.datasets.imagefolder import read_imagefolder_source
from evaluator.datasets.npz import read_npz_source
from evaluator.errors import DatasetError

FORMATS = ("idx", "imagefolder", "cifar-bin", "npz")


def read_source(
    fmt: str,
    source: Path,
    *,
    split: str = "test",
    limit: int | None = None,
    cifar_classes: int | None = None,
) -> Source:
    """Read ``source`` in format ``fmt``; for a directory, take its ``split`` ("test"/"train")."""
    source = Path(source)
    if limit is not None and limit < 1:
        raise DatasetError(f"limit must be positive, got {limit}")
    if fmt == "idx":
        found = read_idx_source(source, split=split, limit=limit)
    elif fmt == "imagefolder":
        found = read_imagefolder_source(source, split=split, limit=limit)
    elif fmt == "cifar-bin":
        found = read_cifar_source(source, split=split, limit=limit, classes=cifar_classes)
    elif fmt == "npz":
        found = read_npz_source(source, split=split, limit=limit)
    else:
        raise DatasetError(f"unknown dataset format '{fmt}'; expected one of {', '.join(FORMATS)}")
    if found.n == 0:
        raise DatasetError(f"{found.path}: no images")
    return found
