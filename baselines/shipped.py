"""The weights that ship with the code: one safetensors file and one record per network.

``baselines/weights/<arch>.safetensors`` holds the weights our recipe trained (fp16 where the
scorer's errors are the same as fp32's, else fp32); ``<arch>.json`` beside it says how they
were made and what they measured: recipe, seed, epochs, machine, wall time, library versions,
the validation error through the scorer, and the file's SHA-256. The site enters them as
baselines without training (``seed_baselines``); a record whose training data fingerprint is
not a challenge's own is not used for that challenge.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
RECORD_VERSION = 1


class ShippedWeightsError(ValueError):
    """A shipped file that does not match its record (changed, truncated, or missing)."""


@dataclass(frozen=True)
class Shipped:
    """One network's shipped file and its record."""

    arch: str
    path: Path
    record: dict

    @property
    def sha256(self) -> str:
        return self.record["sha256"]

    @property
    def key(self) -> str:
        """The cache key of the run (architecture, recipe, training data): the entry's stem."""
        return self.record["key"]

    @property
    def data_fingerprint(self) -> str:
        return self.record["data_fingerprint"]

    @property
    def stem(self) -> str:
        return f"{self.arch}-{self.key}"

    @property
    def val_error(self) -> float:
        return float(self.record["validation"]["top1_error"])

    def verify(self) -> None:
        """Raise ShippedWeightsError unless the file's SHA-256 is the recorded one."""
        if not self.path.is_file():
            raise ShippedWeightsError(f"{self.path}: missing (its record is {self.path.stem}.json)")
        found = file_sha256(self.path)
        if found != self.sha256:
            raise ShippedWeightsError(
                f"{self.path}: SHA-256 {found[:12]}… is not the recorded {self.sha256[:12]}…"
            )


def record_path(arch: str, *, weights_dir: Path = WEIGHTS_DIR) -> Path:
    return Path(weights_dir) / f"{arch}.json"


def weights_path(arch: str, *, weights_dir: Path = WEIGHTS_DIR) -> Path:
    return Path(weights_dir) / f"{arch}.safetensors"


def get(arch: str, *, weights_dir: Path = WEIGHTS_DIR) -> Shipped | None:
    """The shipped weights of ``arch`` (a registry name), or None if it has none."""
    path = record_path(arch, weights_dir=weights_dir)
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    return Shipped(arch=arch, path=weights_path(arch, weights_dir=weights_dir), record=record)


def available(*, weights_dir: Path = WEIGHTS_DIR) -> list[Shipped]:
    """Every shipped network, by name."""
    return [
        shipped
        for path in sorted(Path(weights_dir).glob("*.json"))
        if (shipped := get(path.stem, weights_dir=weights_dir)) is not None
    ]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def state_digest(model: nn.Module) -> str:
    """SHA-256 over every tensor of the state dict (name, dtype, shape, bytes), in name order:
    two runs gave the same weights exactly when their digests are equal."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{value.dtype}:{tuple(value.shape)}\n".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
