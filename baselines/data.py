"""The training split in memory: a seeded validation carve-out, normalisation, augmentation.

Images stay uint8 (N, C, H, W) on the training device, exactly as the evaluator stores the
hidden set, and are normalised per batch with the evaluator's formula, (x/255 - mean)/std, so
the exported network sees the same numbers when scored. The hidden test set is never read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from evaluator.datasets import load_training_split
from evaluator.datasets.fingerprint import fingerprint
from evaluator.spec import InputSpec


@dataclass(frozen=True)
class TrainingData:
    """Train and validation parts of one training split, plus what identifies it."""

    train_images: torch.Tensor  # uint8 (N, C, H, W)
    train_labels: torch.Tensor  # int64 (N,)
    val_images: torch.Tensor
    val_labels: torch.Tensor
    spec: InputSpec
    num_classes: int
    fingerprint: str  # of the whole split (pixels, labels, spec): the weights' cache key

    def to(self, device: torch.device | str) -> TrainingData:
        """The same data on ``device`` (a GPU holds Fashion-MNIST's 47 MB easily)."""
        return TrainingData(
            train_images=self.train_images.to(device),
            train_labels=self.train_labels.to(device),
            val_images=self.val_images.to(device),
            val_labels=self.val_labels.to(device),
            spec=self.spec,
            num_classes=self.num_classes,
            fingerprint=self.fingerprint,
        )


def read_split(
    *, fmt: str, source: Path, spec: InputSpec | None = None, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The training split through the evaluator's own readers and input transform."""
    return load_training_split(fmt=fmt, source=Path(source), spec=spec, limit=limit)


def spec_from_images(
    images: np.ndarray, *, mean: tuple[float, ...] = (), std: tuple[float, ...] = ()
) -> InputSpec:
    """An input spec for data used as stored: its size, and its own mean/std unless given."""
    _, channels, height, width = images.shape
    if not mean or not std:
        scaled = images.reshape(len(images), channels, -1)[:10_000] / 255.0
        mean = mean or tuple(float(m) for m in scaled.mean(axis=(0, 2)))
        std = std or tuple(float(s) for s in scaled.std(axis=(0, 2)))
    return InputSpec(channels=channels, height=height, width=width, mean=mean, std=std)


def prepare(
    *,
    images: np.ndarray,
    labels: np.ndarray,
    spec: InputSpec,
    num_classes: int | None = None,
    val_size: int,
    seed: int,
    train_limit: int | None = None,
) -> TrainingData:
    """Shuffle once (seeded), keep ``val_size`` images apart, optionally cap the rest."""
    if images.shape[1:] != (spec.channels, spec.height, spec.width):
        raise ValueError(f"images are {images.shape[1:]}, the spec wants {spec}")
    num_classes = num_classes or int(labels.max()) + 1
    digest = fingerprint(
        images=images, labels=labels, spec=spec, class_names=[str(i) for i in range(num_classes)]
    )
    order = np.random.default_rng(seed).permutation(len(labels))
    val_size = min(val_size, len(labels) // 5)
    val, train = order[:val_size], order[val_size:]
    if train_limit is not None:
        train = train[:train_limit]
    return TrainingData(
        train_images=torch.from_numpy(images[np.sort(train)]),
        train_labels=torch.from_numpy(labels[np.sort(train)].astype(np.int64)),
        val_images=torch.from_numpy(images[np.sort(val)]),
        val_labels=torch.from_numpy(labels[np.sort(val)].astype(np.int64)),
        spec=spec,
        num_classes=num_classes,
        fingerprint=digest,
    )


class Normalise:
    """uint8 batch -> float32, ``x * scale + bias`` per channel: the evaluator's formula."""

    def __init__(self, spec: InputSpec, device: torch.device | str) -> None:
        std = torch.tensor(spec.std, dtype=torch.float32)
        mean = torch.tensor(spec.mean, dtype=torch.float32)
        self.scale = (1.0 / (255.0 * std)).view(1, -1, 1, 1).to(device)
        self.bias = (-mean / std).view(1, -1, 1, 1).to(device)

    def __call__(self, batch_u8: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.bias, batch_u8.float(), self.scale)


def augment(
    batch: torch.Tensor, *, shift: int, hflip: bool, generator: torch.Generator
) -> torch.Tensor:
    """Random translation by up to ``shift`` pixels (zero fill) and optional mirroring.

    Pad-and-crop as in the ResNet paper's CIFAR recipe (section 4.2), vectorised with one
    gather, on uint8 before normalisation so the fill is black. Random numbers come from
    ``generator`` (on the CPU) only, so a run is reproducible on any device.
    """
    n, channels, height, width = batch.shape
    if shift > 0:
        padded = torch.nn.functional.pad(batch, (shift, shift, shift, shift))
        dy = torch.randint(0, 2 * shift + 1, (n,), generator=generator).to(batch.device)
        dx = torch.randint(0, 2 * shift + 1, (n,), generator=generator).to(batch.device)
        rows = (dy[:, None] + torch.arange(height, device=batch.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(width, device=batch.device))[:, None, None, :]
        samples = torch.arange(n, device=batch.device)[:, None, None, None]
        chans = torch.arange(channels, device=batch.device)[None, :, None, None]
        batch = padded[samples, chans, rows, cols]
    if hflip:
        flip = (torch.rand(n, generator=generator) < 0.5).to(batch.device)
        batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
    return batch
