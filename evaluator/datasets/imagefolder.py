"""ImageFolder trees (the ImageNet layout): ``root/<class>/<image>``, one folder per class.

Class indices follow torchvision's ``ImageFolder``: sorted folder names, files found by
extension (recursively, sorted), so a model trained with torchvision sees the same labels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from evaluator.datasets.base import Source
from evaluator.errors import DatasetError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def class_files(folder: Path) -> list[Path]:
    """Image files under one class folder, in torchvision's order."""
    found = []
    for dirpath, _, filenames in sorted(os.walk(folder, followlinks=True)):
        for name in sorted(filenames):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(Path(dirpath) / name)
    return found


def read_imagefolder_source(
    source: Path, *, split: str = "test", limit: int | None = None
) -> Source:
    """``split`` is unused: the tree given is the split."""
    del split
    if not source.is_dir():
        raise DatasetError(f"{source}: an ImageFolder source must be a directory of class folders")
    classes = sorted(e.name for e in os.scandir(source) if e.is_dir())
    if not classes:
        raise DatasetError(f"{source}: no class folders (expected one sub-folder per class)")
    files: list[Path] = []
    labels: list[int] = []
    for index, name in enumerate(classes):
        found = class_files(source / name)
        if not found:
            raise DatasetError(
                f"{source / name}: empty class folder (no {'/'.join(IMAGE_EXTENSIONS)} files)"
            )
        files += found
        labels += [index] * len(found)
    if limit is not None:
        files, labels = files[:limit], labels[:limit]
    return Source(
        fmt="imagefolder",
        path=source,
        labels=np.asarray(labels, dtype=np.int64),
        files=files,
        num_classes=len(classes),
        class_names=classes,
    )
