"""score_robust(): the clean score plus the robustness track, from one sandboxed run.

The child loads the model once and scores the clean set, then each transformed copy under
``images/robust/`` (``evaluator.robustness.compile``), through the same inference loop. It sees
images only. The trusted parent computes every metric: the clean report exactly as ``score()``
does, and the robustness report from each copy's logits, turned into true-class ranks as they
are read so that only one copy's logits are held at a time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluator import layout, robustness
from evaluator.datasets import open_dataset
from evaluator.formats.detect import detect_format
from evaluator.metrics import classification_report, true_class_rank
from evaluator.robustness.compile import ensure_robust_sets, read_robust_sets
from evaluator.robustness.metrics import robustness_report
from evaluator.sandbox.cgroup import DEFAULT_PIDS_MAX
from evaluator.sandbox.runner import run_model
from evaluator.scoring import run_record


def score_robust(
    *,
    dataset_dir: Path,
    model_path: Path,
    arch: str | None = None,
    device: str = "cpu",
    timeout_s: float = 600,
    memory_mb: int | None = 8192,
    pids_max: int | None = DEFAULT_PIDS_MAX,
    precision: str = "fp32",
    batch_size: int = 256,
    require_sandbox: bool = False,
    bootstrap_seed: int = 0,
    names: tuple[str, ...] = robustness.NAMES,
    compile_missing: bool = True,
) -> dict:
    """``score()``'s result plus ``"robustness"``: per transform and part, errors and increases.

    ``timeout_s`` bounds the whole run, clean set and copies together. Copies that are absent or
    stale are compiled first when ``compile_missing`` (a worker's fallback: a host normally
    compiles them once, with the set); otherwise that is a DatasetError.
    """
    dataset_dir, model_path = Path(dataset_dir), Path(model_path)
    dataset = open_dataset(dataset_dir)
    robust_sets = (
        ensure_robust_sets(dataset_dir=dataset_dir, names=names)
        if compile_missing
        else read_robust_sets(images_dir=layout.images_dir(dataset_dir), names=names)
    )
    fmt = detect_format(model_path)
    ranks: dict[str, np.ndarray] = {}
    nonfinite: dict[str, int] = {}

    def take(name: str, logits: np.ndarray) -> None:
        ranks[name] = true_class_rank(logits, dataset.labels)
        nonfinite[name] = int((~np.isfinite(logits)).any(axis=1).sum())

    child = run_model(
        model_path=model_path,
        fmt=fmt,
        arch=arch,
        images_dir=layout.images_dir(dataset_dir),
        num_classes=dataset.num_classes,
        device=device,
        batch_size=batch_size,
        precision=precision,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        pids_max=pids_max,
        require_sandbox=require_sandbox,
        robust=tuple(names),
        on_robust_logits=take,
    )
    report = classification_report(
        logits=child.logits,
        labels=dataset.labels,
        public_mask=dataset.public_mask,
        num_classes=dataset.num_classes,
        seed=bootstrap_seed,
    )
    robust = robustness_report(
        clean_ranks=true_class_rank(child.logits, dataset.labels),
        robust_ranks=ranks,
        public_mask=dataset.public_mask,
        num_classes=dataset.num_classes,
        seed=bootstrap_seed,
    )
    robust["fingerprint"] = robust_sets.fingerprint
    robust["n_nonfinite"] = nonfinite
    robust["timing"] = _timing(child.info, names=names)
    record = run_record(
        model_path=model_path,
        fmt=fmt,
        arch=arch,
        dataset_fingerprint=dataset.fingerprint,
        device=device,
        precision=precision,
        info=child.info,
        wall_seconds=child.wall_seconds,
        n_images=dataset.n * (1 + len(names)),  # the clean set and each copy, in one run
        sandbox=child.sandbox,
        cgroup=child.cgroup,
    )
    return {**report, **record, "robustness": robust}


def _timing(info: dict, *, names: tuple[str, ...]) -> dict:
    """Seconds of the clean loop and of each copy's, as the child reported them (numbers only:
    the child is untrusted, so anything else is dropped)."""
    reported = info.get("robust") if isinstance(info.get("robust"), dict) else {}
    per_copy = {}
    for name in names:
        entry = reported.get(name)
        seconds = entry.get("seconds") if isinstance(entry, dict) else None
        per_copy[name] = float(seconds) if isinstance(seconds, int | float) else None
    clean = info.get("seconds")
    known = [s for s in per_copy.values() if s is not None]
    return {
        "clean_seconds": float(clean) if isinstance(clean, int | float) else None,
        "robust_seconds": float(sum(known)) if len(known) == len(per_copy) else None,
        "per_transform_seconds": per_copy,
    }
