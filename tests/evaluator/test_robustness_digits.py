"""The rotation columns measure something real: training with rotations makes them better.

A small network on scikit-learn's handwritten digits (real scans, 8x8, upsampled to 16x16),
trained twice with the same seed and steps: once plainly, once with every training image turned
by a random angle in [-100, 100] degrees. The test set goes through the platform's own path
(imported, its copies compiled, each scored by ``run_inference``, metrics by the robustness
report). Only the direction and a margin are asserted, not exact numbers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
import torchvision.transforms.v2.functional as F
from sklearn.datasets import load_digits
from torch import nn

from evaluator import layout
from evaluator.datasets import import_dataset, open_dataset
from evaluator.formats.base import LoadedModel, ModelFormat
from evaluator.inference import run_inference
from evaluator.robustness.compile import compile_robust_sets, open_robust_images
from evaluator.robustness.metrics import robustness_report_from_logits

ROTATIONS = ("rotate_15", "rotate_45", "rotate_90")
EPOCHS = 10


def digits_16() -> tuple[np.ndarray, np.ndarray]:
    digits = load_digits()
    images = torch.from_numpy((digits.images * (255 / 16)).round().astype(np.uint8))[:, None]
    return F.resize(images, [16, 16], antialias=True).numpy(), digits.target.astype(np.int64)


def network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
    )  # fmt: skip


def rotated(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image turned by its own random angle (an affine grid: independent of the scorer)."""
    angle = (torch.rand(len(batch), generator=generator) * 2 - 1) * math.radians(100)
    cos, sin, zero = torch.cos(angle), torch.sin(angle), torch.zeros_like(angle)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = TF.affine_grid(theta, list(batch.shape), align_corners=False)
    return TF.grid_sample(batch, grid, align_corners=False)


def train(images: np.ndarray, labels: np.ndarray, *, rotate: bool) -> nn.Module:
    model = network()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(1)
    x = (torch.from_numpy(images).float() / 255 - 0.5) / 0.5  # the spec's mean and std
    y = torch.from_numpy(labels)
    for _ in range(EPOCHS):
        order = torch.randperm(len(x), generator=generator)
        for lo in range(0, len(x), 64):
            batch = x[order[lo : lo + 64]]
            if rotate:
                batch = rotated(batch + 1, generator) - 1  # black (-1) outside the image
            loss = TF.cross_entropy(model(batch), y[order[lo : lo + 64]])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


@pytest.fixture(scope="module")
def digits_set(tmp_path_factory: pytest.TempPathFactory) -> dict:
    images, labels = digits_16()
    order = np.random.default_rng(0).permutation(len(labels))
    train_idx, test_idx = order[:1200], order[1200:]
    root = tmp_path_factory.mktemp("digits")
    source = root / "source"
    source.mkdir()
    np.savez(source / "test.npz", images=images[test_idx, 0], labels=labels[test_idx])
    from evaluator.spec import InputSpec

    import_dataset(
        fmt="npz",
        source=source,
        out=root / "compiled",
        spec=InputSpec(channels=1, height=16, width=16, mean=(0.5,), std=(0.5,)),
        progress=False,
        workers=1,
    )
    compile_robust_sets(dataset_dir=root / "compiled", names=(*ROTATIONS, "blur_1", "hflip"))
    return {"train": (images[train_idx], labels[train_idx]), "compiled": root / "compiled"}


def robust_errors(model: nn.Module, compiled: Path) -> dict:
    dataset = open_dataset(compiled)
    loaded = LoadedModel(kind="torch", format=ModelFormat.TORCHSCRIPT, module=model)

    def logits(images: np.ndarray) -> np.ndarray:
        return run_inference(
            model=loaded,
            images=images,
            spec=dataset.spec,
            num_classes=10,
            device="cpu",
            batch_size=256,
            precision="fp32",
        ).logits

    robust = {
        name: logits(
            open_robust_images(
                images_dir=layout.images_dir(compiled), name=name, shape=dataset.images.shape
            )
        )
        for name in (*ROTATIONS, "blur_1", "hflip")
    }
    return robustness_report_from_logits(
        clean_logits=logits(dataset.images),
        robust_logits=robust,
        labels=dataset.labels,
        public_mask=dataset.public_mask,
        num_classes=10,
    )


@pytest.fixture
def one_thread():
    """Tiny batches: one thread is fastest on a shared machine (restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_rotation_augmentation_lowers_the_rotation_errors(digits_set: dict, one_thread) -> None:
    images, labels = digits_set["train"]
    plain = robust_errors(train(images, labels, rotate=False), digits_set["compiled"])
    turned = robust_errors(train(images, labels, rotate=True), digits_set["compiled"])

    def top1(report: dict, name: str) -> float:
        return report["results"][name]["all"]["top1_error"]

    # Both models learnt the digits...
    assert plain["clean"]["all"]["top1_error"] < 0.12
    assert turned["clean"]["all"]["top1_error"] < 0.25
    # ...but only the one trained with rotations reads them turned by 45 or 90 degrees.
    assert top1(plain, "rotate_45") > 0.5 and top1(plain, "rotate_90") > 0.6
    for name in ("rotate_45", "rotate_90"):
        assert top1(plain, name) - top1(turned, name) > 0.25, name
    mean_plain = np.mean([top1(plain, n) for n in ROTATIONS])
    mean_turned = np.mean([top1(turned, n) for n in ROTATIONS])
    assert mean_plain - mean_turned > 0.2
    # The plain model's error grows with the angle: the columns order the difficulty.
    assert top1(plain, "rotate_15") < top1(plain, "rotate_45") < top1(plain, "rotate_90")
