"""The robustness track's copies of a hidden set, as the site compiles and shows them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluator.robustness import NAMES as TRANSFORM_NAMES

__all__ = ["TRANSFORM_NAMES", "compile_copies", "transformed"]


def compile_copies(*, dataset_dir: Path, progress: bool = False):
    """Write every transformed copy beside the compiled set, once (the evaluator's compiler)."""
    from evaluator.robustness import compile_robust_sets

    return compile_robust_sets(dataset_dir=dataset_dir, progress=progress)


def transformed(name: str, image: np.ndarray) -> np.ndarray:
    """One uint8 image (C, H, W) under the transform ``name``, as the scored copy has it."""
    from evaluator.robustness import apply_numpy

    return apply_numpy(name, image[None])[0]
