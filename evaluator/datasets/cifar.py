"""CIFAR-10 / CIFAR-100 binary batches (https://www.cs.toronto.edu/~kriz/cifar.html).

A CIFAR-10 record is 1 label byte + 3072 pixel bytes; a CIFAR-100 record is a coarse and a fine
label byte + 3072 pixel bytes (the fine label is the class). Pixels are stored as 1024 red,
1024 green, 1024 blue bytes, each a row-major 32x32 plane: already (C, H, W).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluator.datasets.base import Source, pick_split_file
from evaluator.datasets.classnames import read_names
from evaluator.errors import DatasetError

PIXELS = 3 * 32 * 32
# classes -> (label bytes before the pixels, index of the class label byte, names file)
VARIANTS = {10: (1, 0, "batches.meta.txt"), 100: (2, 1, "fine_label_names.txt")}
TRAIN_FILES = {10: [f"data_batch_{i}.bin" for i in range(1, 6)], 100: ["train.bin"]}


def detect_classes(files: list[Path], *, forced: int | None) -> int:
    """10 or 100: forced by the caller, else told by a names file, else by record size."""
    if forced is not None:
        if forced not in VARIANTS:
            raise DatasetError(f"CIFAR has 10 or 100 classes, not {forced}")
        return forced
    folder = files[0].parent
    hinted = [k for k, (_, _, names) in VARIANTS.items() if (folder / names).is_file()]
    if len(hinted) == 1:
        return hinted[0]
    sizes = [f.stat().st_size for f in files]
    fitting = [
        k for k, (lead, _, _) in VARIANTS.items() if all(s % (lead + PIXELS) == 0 for s in sizes)
    ]
    if len(fitting) == 1:
        return fitting[0]
    where = ", ".join(str(f) for f in files)
    if not fitting:
        raise DatasetError(
            f"{where}: size is a whole number of neither CIFAR-10 (3073-byte) nor CIFAR-100 "
            "(3074-byte) records: truncated or not a CIFAR binary batch"
        )
    raise DatasetError(f"{where}: could be CIFAR-10 or CIFAR-100; say which (10 or 100 classes)")


def find_batches(source: Path, *, split: str) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise DatasetError(f"{source}: no such file or directory")
    bins = sorted(p for p in source.iterdir() if p.suffix == ".bin" and p.is_file())
    if split == "train":
        for names in TRAIN_FILES.values():
            found = [source / n for n in names if (source / n).is_file()]
            if found:
                return found
    return [pick_split_file(bins, split=split, what="CIFAR batch (*.bin)", where=source)]


def read_batch(path: Path, *, classes: int) -> tuple[np.ndarray, np.ndarray]:
    lead, label_at, _ = VARIANTS[classes]
    record = lead + PIXELS
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0 or data.size % record:
        raise DatasetError(
            f"{path}: {data.size} bytes is not a whole number of {record}-byte CIFAR-{classes} "
            "records: truncated or not a CIFAR binary batch"
        )
    rows = data.reshape(-1, record)
    labels = rows[:, label_at].astype(np.int64)
    if labels.max() >= classes:
        raise DatasetError(
            f"{path}: label {labels.max()} out of range for CIFAR-{classes}; wrong variant?"
        )
    return rows[:, lead:].reshape(-1, 3, 32, 32), labels


def read_cifar_source(
    source: Path, *, split: str = "test", limit: int | None = None, classes: int | None = None
) -> Source:
    files = find_batches(source, split=split)
    classes = detect_classes(files, forced=classes)
    parts = [read_batch(f, classes=classes) for f in files]
    pixels = np.concatenate([p for p, _ in parts]) if len(parts) > 1 else parts[0][0]
    labels = np.concatenate([lab for _, lab in parts]) if len(parts) > 1 else parts[0][1]
    if limit is not None:
        pixels, labels = pixels[:limit], labels[:limit]
    names_file = files[0].parent / VARIANTS[classes][2]
    names = read_names(names_file) if names_file.is_file() else None
    if names is not None and len(names) != classes:
        raise DatasetError(f"{names_file}: {len(names)} class names, CIFAR-{classes} has {classes}")
    path = files[0] if len(files) == 1 else files[0].parent
    return Source(
        fmt="cifar-bin",
        path=path,
        labels=labels,
        pixels=pixels,
        num_classes=classes,
        class_names=names,
    )
