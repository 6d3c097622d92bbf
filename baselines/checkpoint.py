"""Checkpoints of a training run: written atomically each epoch, resumed only by the same run.

A checkpoint names the run it belongs to (architecture, recipe and data), so a changed recipe
or data set starts afresh instead of resuming someone else's weights.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn


@dataclass
class RunState:
    """What a resumed run needs: the epochs done, their history and the time spent."""

    epoch: int = 0
    seconds: float = 0.0
    history: list[dict] = field(default_factory=list)


def save(
    path: Path, *, run_id: str, model: nn.Module, optimizer: torch.optim.Optimizer, state: RunState
) -> None:
    """Write to a temporary file, then rename: a killed run never leaves half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(
        {
            "run_id": run_id,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": state.epoch,
            "seconds": state.seconds,
            "history": state.history,
        },
        temporary,
    )
    os.replace(temporary, path)


def load(
    path: Path, *, run_id: str, model: nn.Module, optimizer: torch.optim.Optimizer
) -> RunState | None:
    """Restore ``model`` and ``optimizer`` from ``path`` if it holds this run; else None."""
    if not path.is_file():
        return None
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved.get("run_id") != run_id:
        return None
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    return RunState(epoch=saved["epoch"], seconds=saved["seconds"], history=saved["history"])
