"""Training recipes: one frozen dataclass per network, part of the cache key of its weights.

Plain SGD with Nesterov momentum and a cosine schedule after a short linear warm-up
(Loshchilov & Hutter, SGDR, arXiv:1608.03983; warm-up: Goyal et al., arXiv:1706.02677) trains
every network here; only the numbers differ. Changing any field gives a new cache entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Literal

RECIPE_VERSION = 1  # bump when the training loop changes what a recipe produces


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the trained weights besides the data and the architecture."""

    epochs: int
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_epochs: float = 0.5
    label_smoothing: float = 0.0
    shift: int = 2  # random translation of up to this many pixels (0: no augmentation)
    hflip: bool = False  # mirror images (right for clothes and photos, wrong for digits)
    val_size: int = 5000  # images carved from the training split for validation
    train_limit: int | None = None  # use only the first N training images (after shuffling)
    seed: int = 0
    optimizer: Literal["sgd"] = "sgd"

    def with_overrides(self, **changes: object) -> Recipe:
        """A copy with the non-None ``changes`` applied (command-line overrides)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict:
        return asdict(self)

    def key(self) -> str:
        """A short stable digest of the recipe (and of the loop's version)."""
        text = json.dumps({"version": RECIPE_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
