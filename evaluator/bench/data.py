"""The benchmark's data and model: Fashion-MNIST as PNG files, synthetic JPEG photos, LeNet-5.

``--data fashion-mnist`` uses the real 10,000 test images from Debian's dataset-fashion-mnist
(written once as PNG files for the reference pipeline); ``--data synthetic`` writes photo-sized
JPEG images (500x375, ImageNet-like) for the 256/224 recipe.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn
from tqdm import tqdm

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


class LeNet5(nn.Module):
    """LeNet-5-sized network for 1x28x28 input (LeCun et al., 1998): about 61k parameters."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def build_model(name: str, *, channels: int, num_classes: int) -> nn.Module:
    if name == "lenet":
        return LeNet5(num_classes)
    model = getattr(torchvision.models, name)(weights=None, num_classes=num_classes)
    if channels != 3:
        raise SystemExit(f"{name} expects 3 channels in this benchmark")
    return model


def _smooth_image(args: tuple[int, Path]) -> None:
    from PIL import Image

    seed, path = args
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    Image.fromarray(small).resize((500, 375), Image.BICUBIC).save(path, quality=90)


def write_synthetic_tree(root: Path, *, n: int, classes: int, workers: int) -> None:
    """JPEG photos at ImageNet's typical size, one folder per class."""
    for c in range(classes):
        (root / f"class{c:03d}").mkdir(parents=True, exist_ok=True)
    jobs = [(i, root / f"class{i % classes:03d}" / f"{i:06d}.jpg") for i in range(n)]
    with ProcessPoolExecutor(workers) as pool:
        list(tqdm(pool.map(_smooth_image, jobs, chunksize=64), total=n, desc="writing JPEGs"))


def _write_png(args: tuple[np.ndarray, Path]) -> None:
    from PIL import Image

    img, path = args
    Image.fromarray(img).save(path)


def write_png_tree(root: Path, images: np.ndarray, labels: np.ndarray, *, workers: int) -> None:
    """The compiled set written back out as an ImageFolder tree, for the reference pipeline."""
    for c in np.unique(labels):
        (root / f"class{c:03d}").mkdir(parents=True, exist_ok=True)
    jobs = [
        (images[i, 0] if images.shape[1] == 1 else images[i].transpose(1, 2, 0),
         root / f"class{labels[i]:03d}" / f"{i:06d}.png")
        for i in range(len(images))
    ]  # fmt: skip
    with ProcessPoolExecutor(workers) as pool:
        list(tqdm(pool.map(_write_png, jobs, chunksize=256), total=len(jobs), desc="writing PNGs"))
