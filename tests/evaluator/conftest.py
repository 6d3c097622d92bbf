"""Shared fixtures: small compiled test sets written straight to the on-disk layout."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from evaluator import layout
from evaluator.spec import InputSpec


def write_compiled_dataset(
    root: Path,
    *,
    n: int = 64,
    channels: int = 1,
    height: int = 28,
    width: int = 28,
    num_classes: int = 10,
    seed: int = 0,
    public_fraction: float = 0.5,
) -> Path:
    """Write random uint8 images and labels in the compiled layout (for tests only)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, channels, height, width), dtype=np.uint8)
    labels = rng.integers(0, num_classes, size=n).astype(np.int64)
    split = rng.random(n) < public_fraction
    spec = InputSpec(channels=channels, height=height, width=width)
    (root / layout.IMAGES_DIR).mkdir(parents=True)
    (root / layout.LABELS_DIR).mkdir(parents=True)
    np.save(root / layout.IMAGES_DIR / layout.IMAGES_FILE, images)
    np.save(root / layout.LABELS_DIR / layout.LABELS_FILE, labels)
    np.save(root / layout.LABELS_DIR / layout.SPLIT_FILE, split)
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    meta = {
        "format_version": layout.FORMAT_VERSION,
        "n": n,
        "num_classes": num_classes,
        "class_names": [f"class{i}" for i in range(num_classes)],
        "spec": spec.to_dict(),
        "fingerprint": digest,
    }
    (root / layout.IMAGES_DIR / layout.META_FILE).write_text(json.dumps(meta))
    (root / layout.LABELS_DIR / layout.META_FILE).write_text(
        json.dumps({"public_fraction": public_fraction, "seed": seed})
    )
    return root


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    """64 random 1x28x28 images, 10 classes."""
    return write_compiled_dataset(tmp_path / "tiny")


from tests.evaluator.models import model_files  # noqa: E402, F401  (session fixture: every format)
