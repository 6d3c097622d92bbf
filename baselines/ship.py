"""A finished training run as shipped weights: the file, checked by the scorer, and its record.

The fp32 weights and an fp16 copy are both scored by the evaluator (sandboxed, as any entry)
on the run's validation images; the fp16 copy ships when every error it gives is the one fp32
gives, else fp32 ships. The record keeps what the scorer measured on the shipped file, so a
test can score it again and expect exactly that. With the hidden test set's files, its error
there (and the bootstrap interval) is recorded too.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from baselines.data import TrainingData
from baselines.pipeline import TrainedBaseline
from baselines.shipped import (
    RECORD_VERSION,
    WEIGHTS_DIR,
    file_sha256,
    record_path,
    state_digest,
    weights_path,
)
from baselines.train import train
from evaluator.datasets import import_dataset
from evaluator.scoring import score

COMPARED = ("top1_error", "top5_error", "balanced_error")


def ship(
    *,
    trained: TrainedBaseline,
    data: TrainingData,
    test_source: tuple[str, Path] | None = None,
    test_class_names: Path | None = None,
    weights_dir: Path = WEIGHTS_DIR,
    first_epoch: bool = True,
    first_epoch_digest: str | None = None,
    log=print,
) -> dict:
    """Write ``<arch>.safetensors`` and ``<arch>.json`` under ``weights_dir``; return the record.

    ``test_source`` is (format, path) of the hidden test set, compiled as the demo does (half
    public, seed 0, ``test_class_names`` one a line: the names are part of its fingerprint).
    ``first_epoch`` trains one epoch again to record its state digest: the reproducibility
    test compares a fresh first epoch with it; ``first_epoch_digest`` gives one computed
    beforehand (by ``first_epoch_state_digest``), which that test checks too.
    """
    arch = trained.baseline.arch
    weights_dir = Path(weights_dir)
    weights_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"ship-{arch}-") as work:
        work = Path(work)
        val_dir = compile_validation(data, work / "val")
        half = write_fp16(trained.safetensors, work / f"{arch}.fp16.safetensors")
        full_result = _score(val_dir, trained.safetensors, arch)
        half_result = _score(val_dir, half, arch)
        same = all(full_result[k] == half_result[k] for k in COMPARED)
        chosen = half if same else trained.safetensors
        log(
            f"{arch}: validation top-1 error fp32 {full_result['top1_error']:.4%}, "
            f"fp16 {half_result['top1_error']:.4%}: shipping {'fp16' if same else 'fp32'}"
        )
        target = weights_path(arch, weights_dir=weights_dir)
        temporary = target.with_suffix(".tmp")
        shutil.copyfile(chosen, temporary)
        os.replace(temporary, target)
        shipped_result = half_result if same else full_result
        test = None
        if test_source is not None:
            fmt, source = test_source
            test_dir = work / "test"
            import_dataset(
                fmt=fmt,
                source=source,
                out=test_dir,
                spec=data.spec,
                class_names_file=test_class_names,
                workers=1,
                progress=False,
            )
            test_result = _score(test_dir, target, arch)
            test = {
                "top1_error": test_result["top1_error"],
                "top5_error": test_result["top5_error"],
                "ci95_top1_error": test_result["ci95"]["top1_error"],
                "images": test_result["n_images"],
                "data_fingerprint": test_result["dataset_fingerprint"],
            }
    digest = first_epoch_digest
    if digest is None and first_epoch:
        digest = first_epoch_state_digest(arch=arch, recipe=trained.recipe, data=data)
    meta = trained.meta
    record = {
        "record_version": RECORD_VERSION,
        "arch": arch,
        "method_name": trained.baseline.method_name,
        "year": trained.baseline.year,
        "file": target.name,
        "sha256": file_sha256(target),
        "bytes": target.stat().st_size,
        "dtype": "float16" if same else "float32",
        "recipe": trained.recipe.to_dict(),
        "recipe_key": trained.recipe.key(),
        "seed": trained.recipe.seed,
        "epochs": trained.recipe.epochs,
        "key": trained.key,
        "data_fingerprint": data.fingerprint,
        "input_spec": data.spec.to_dict(),
        "num_classes": data.num_classes,
        "train_images": len(data.train_labels),
        "params": meta.get("params"),
        "training": {
            "wall_seconds": meta.get("train_seconds"),
            "device": meta.get("device"),
            "machine": machine_description(),
            "epochs": [
                {k: row[k] for k in ("epoch", "train_loss", "val_acc", "seconds") if k in row}
                for row in meta.get("history", [])
            ],
            "val_accuracy": meta.get("val_accuracy"),
            "first_epoch_state_sha256": digest,
        },
        "validation": {
            "images": len(data.val_labels),
            "top1_error": shipped_result["top1_error"],
            "top5_error": shipped_result["top5_error"],
            "balanced_error": shipped_result["balanced_error"],
            "fp32_top1_error": full_result["top1_error"],
            "fp16_top1_error": half_result["top1_error"],
            # Every figure fp16 had to match to ship (a top-5 or per-class change keeps fp32).
            "fp32": {k: full_result[k] for k in COMPARED},
            "fp16": {k: half_result[k] for k in COMPARED},
            "scorer": "evaluator.scoring.score, sandboxed, cpu, fp32 compute",
        },
        "test": test,
        "versions": library_versions(),
    }
    path = record_path(arch, weights_dir=weights_dir)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return record


def compile_validation(data: TrainingData, out: Path) -> Path:
    """The run's validation images as a compiled set, through the evaluator's own importer."""
    out.parent.mkdir(parents=True, exist_ok=True)
    source = out.parent / f"{out.name}.npz"
    images = data.val_images.numpy().transpose(0, 2, 3, 1)  # the importer reads (N, H, W, C)
    np.savez(source, images=images, labels=data.val_labels.numpy())
    import_dataset(fmt="npz", source=source, out=out, spec=data.spec, workers=1, progress=False)
    return out


def write_fp16(source: Path, target: Path) -> Path:
    """A copy with every floating tensor in fp16 (integers as they are), the header's metadata
    kept (the architecture name among it)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(source), framework="pt") as fh:
        header = fh.metadata() or {}
        names = list(fh.keys())
        tensors = {name: fh.get_tensor(name) for name in names}
    tensors = {
        name: (t.half() if t.is_floating_point() else t).contiguous() for name, t in tensors.items()
    }
    save_file(tensors, str(target), metadata=header)
    return target


def _score(dataset_dir: Path, model_path: Path, arch: str) -> dict:
    return score(dataset_dir=dataset_dir, model_path=model_path, arch=arch, require_sandbox=True)


def first_epoch_state_digest(*, arch: str, recipe, data: TrainingData) -> str:
    """The weights' digest after the recipe's first epoch, trained again here (one thread)."""
    with tempfile.TemporaryDirectory() as work:
        result = train(
            arch=arch,
            data=data,
            recipe=recipe,
            stop_after=1,
            progress=False,
            threads=1,
            checkpoint_path=Path(work) / "checkpoint.pt",
        )
    return state_digest(result.model)


def machine_description() -> str:
    """CPU model, cores and OS: where the wall time was measured."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "torch": torch.__version__}
    for name in ("numpy", "safetensors", "onnxruntime"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
