"""Helpers for the import_dataset tests: small sources, one import call, leftovers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluator.datasets import ImportReport, import_dataset
from evaluator.spec import InputSpec
from tests.evaluator.test_datasets_sources import random_images, write_imagefolder

GREY28 = InputSpec(channels=1, height=28, width=28)


def npz_source(tmp_path: Path, n: int = 40, *, num_classes: int = 4, seed: int = 0) -> Path:
    images = random_images(n, 28, 28, seed=seed)
    labels = np.arange(n) % num_classes
    np.savez(tmp_path / "src.npz", images=images, labels=labels)
    return tmp_path / "src.npz"


def run(tmp_path: Path, source: Path, *, name: str = "set", fmt: str = "npz", **kw) -> ImportReport:
    kw.setdefault("spec", GREY28)
    kw.setdefault("progress", False)
    kw.setdefault("workers", 1)
    return import_dataset(fmt=fmt, source=source, out=tmp_path / name, **kw)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def labelled_folder(root: Path, *, per_class: int = 3, size: int = 40) -> Path:
    """Three classes of RGB PNGs whose pixel value encodes the class, to check label alignment."""
    return write_imagefolder(
        root,
        {
            name: [np.full((size, size + 8, 3), 10 + 100 * k, np.uint8)] * per_class
            for k, name in enumerate(["cat", "dog", "eel"])
        },
    )
