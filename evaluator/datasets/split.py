"""The public/private split: which images are scored on the public leaderboard."""

from __future__ import annotations

import numpy as np

from evaluator.errors import DatasetError


def public_mask(n: int, *, fraction: float, seed: int) -> np.ndarray:
    """bool (n,), True for exactly round(n * fraction) images drawn by ``seed``.

    Deterministic: the same n, fraction and seed always give the same split, so a set can be
    recompiled without reshuffling what was public.
    """
    if not 0.0 <= fraction <= 1.0:
        raise DatasetError(f"public fraction must be between 0 and 1, got {fraction}")
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n)[: round(n * fraction)]] = True
    return mask
