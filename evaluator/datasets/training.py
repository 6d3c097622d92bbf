"""Training splits read with the same readers, for training the baseline networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluator.datasets.compile import fill_range
from evaluator.datasets.sources import read_source
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec


def load_training_split(
    *,
    fmt: str,
    source: Path,
    spec: InputSpec | None = None,
    limit: int | None = None,
    cifar_classes: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, C, H, W) and int64 labels (N,) of the train split of ``source``.

    A directory's training files are picked (``train-*-idx3-ubyte``, ``data_batch_*.bin``,
    ``train.npz``...). Images keep their stored size unless ``spec`` is given, in which case
    they go through the same transform as the hidden set. ImageFolder trees are not loaded
    into memory: compile them with ``import_dataset`` instead.
    """
    if fmt == "imagefolder":
        raise DatasetError(
            f"{source}: an ImageFolder training tree is too large to hold in memory; "
            "compile it with import_dataset and open it with open_dataset"
        )
    found = read_source(fmt, Path(source), split="train", limit=limit, cifar_classes=cifar_classes)
    assert found.pixels is not None  # every format but ImageFolder stores one array
    if spec is None:
        return np.ascontiguousarray(found.pixels), found.labels
    images = np.empty((found.n, spec.channels, spec.height, spec.width), dtype=np.uint8)
    fill_range(images, 0, found.n, spec=spec, pixels=found.pixels)
    return images, found.labels
