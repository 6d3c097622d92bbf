"""Train a baseline or reuse its cached weights, then export both submission files.

Cache entries live in ``<cache_root>/<arch>-<key>/``, the key being a digest of the
architecture, the recipe and the training data's fingerprint (pixels, labels, input spec):
exactly what decides the weights. An entry is complete once ``meta.json`` exists; until then
its checkpoint lets an interrupted run resume.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from baselines.catalogue import Baseline
from baselines.data import TrainingData
from baselines.export import export_onnx, export_safetensors, onnx_max_difference
from baselines.recipes import Recipe
from baselines.train import train

META_FILE = "meta.json"
CHECK_IMAGES = 256  # validation images on which the ONNX file must agree with the network


class LineQueue(Protocol):
    """Where a worker process puts its log lines (a multiprocessing manager's queue)."""

    def put(self, item: str | dict) -> None: ...


@dataclass(frozen=True)
class TrainedBaseline:
    """A finished cache entry: where its files are and what the run measured."""

    baseline: Baseline
    recipe: Recipe
    key: str
    directory: Path
    meta: dict

    @property
    def onnx(self) -> Path:
        return self.directory / f"{self.stem}.onnx"

    @property
    def safetensors(self) -> Path:
        return self.directory / f"{self.stem}.safetensors"

    @property
    def stem(self) -> str:
        """File name without suffix: unique per architecture and key (the submission's name)."""
        return f"{self.baseline.arch}-{self.key}"


def cache_key(*, arch: str, recipe: Recipe, data_fingerprint: str) -> str:
    text = f"{arch}\n{recipe.key()}\n{data_fingerprint}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def entry_dir(*, cache_root: Path, arch: str, key: str) -> Path:
    return Path(cache_root) / f"{arch}-{key}"


def train_or_reuse(
    *,
    baseline: Baseline,
    recipe: Recipe,
    data: TrainingData,
    cache_root: Path,
    device: str = "cpu",
    progress: bool = True,
    stop_after: int | None = None,
    log: Callable[[str], None] = print,
    position: int | None = None,
    on_epoch: Callable[[float, int, float], None] | None = None,
) -> TrainedBaseline | None:
    """The cached result if complete; else train (resuming), export and check the files.

    Returns None when ``stop_after`` ended training early (run again to go on). ``on_epoch``
    follows the training (see ``train``); it is not called when the cache holds the result.
    """
    key = cache_key(arch=baseline.arch, recipe=recipe, data_fingerprint=data.fingerprint)
    directory = entry_dir(cache_root=cache_root, arch=baseline.arch, key=key)
    meta_path = directory / META_FILE
    if meta_path.is_file():
        log(f"{baseline.arch}: reusing {directory}")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return TrainedBaseline(baseline, recipe, key, directory, meta)
    directory.mkdir(parents=True, exist_ok=True)
    threads = baseline.cpu_threads if device == "cpu" else None
    log(f"{baseline.arch}: training on {device} ({recipe.epochs} epochs) into {directory}")
    result = train(
        arch=baseline.arch,
        data=data,
        recipe=recipe,
        device=device,
        checkpoint_path=directory / "checkpoint.pt",
        stop_after=stop_after,
        progress=progress,
        threads=threads,
        position=position,
        log=log,
        on_epoch=on_epoch,
    )
    if not result.finished:
        log(f"{baseline.arch}: stopped after epoch {len(result.history)}; run again to resume")
        return None
    trained = TrainedBaseline(baseline, recipe, key, directory, meta={})
    tags = {
        "arch": baseline.arch,
        "method": baseline.method_name,
        "year": str(baseline.year),
        "citation": baseline.citation,
        "recipe": json.dumps(recipe.to_dict(), sort_keys=True),
        "input_spec": json.dumps(data.spec.to_dict(), sort_keys=True),
    }
    export_safetensors(result.model, trained.safetensors, arch=baseline.arch, metadata=tags)
    export_onnx(result.model, trained.onnx, spec=data.spec, metadata=tags)
    difference = onnx_max_difference(
        result.model, trained.onnx, images=data.val_images[:CHECK_IMAGES], spec=data.spec
    )
    meta = {
        "arch": baseline.arch,
        "method_name": baseline.method_name,
        "year": baseline.year,
        "citation": baseline.citation,
        "recipe": recipe.to_dict(),
        "key": key,
        "data_fingerprint": data.fingerprint,
        "input_spec": data.spec.to_dict(),
        "num_classes": data.num_classes,
        "train_images": len(data.train_labels),
        "val_images": len(data.val_labels),
        "val_accuracy": result.val_accuracy,
        "params": sum(p.numel() for p in result.model.parameters()),
        "train_seconds": round(result.seconds, 1),
        "device": device_description(device, threads=threads),
        "onnx_max_abs_difference": difference,
        "history": result.history,
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
    }
    temporary = meta_path.with_suffix(".tmp")
    temporary.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, meta_path)
    (directory / "checkpoint.pt").unlink(missing_ok=True)  # the exports hold the weights
    log(
        f"{baseline.arch}: validation error {1 - (result.val_accuracy or 0):.2%} "
        f"after {result.seconds:.0f} s"
    )
    return TrainedBaseline(baseline, recipe, key, directory, meta)


def train_or_reuse_logging_to(queue: LineQueue, **kwargs) -> TrainedBaseline | None:
    """``train_or_reuse`` in a worker process, each log line (the epochs' too) put on ``queue``
    as it is logged: its parent writes them where its own output goes (a command's stdout)
    while the network trains, in order: "training on ..." before the epochs, not after.
    Epoch counts go on the same queue, as dicts (arch, done, epochs, seconds): the parent
    keeps the board's training notice from them."""
    arch = kwargs["baseline"].arch

    def on_epoch(done: float, epochs: int, seconds: float) -> None:
        queue.put({"arch": arch, "done": done, "epochs": epochs, "seconds": seconds})

    return train_or_reuse(**kwargs, log=queue.put, on_epoch=on_epoch)


def device_description(device: str, *, threads: int | None = None) -> str:
    """'cuda (NVIDIA H100 ...)' or 'cpu (N threads)': what the training time was measured on."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return f"cpu ({threads or torch.get_num_threads()} threads, {platform.machine()})"
