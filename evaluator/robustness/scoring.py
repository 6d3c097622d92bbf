"""The robustness track as a stage of the scoring pipeline: the clean score plus each copy's.

The child loads the model once and scores the clean set, then each transformed copy under
``images/robust/`` (``evaluator.robustness.compile``), through the same inference loop. It sees
images only. The trusted parent computes every metric: the clean report exactly as ``score()``
does (the same pipeline), and the robustness report from each copy's logits, turned into
true-class ranks as they are read so that only one copy's logits are held at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluator import layout, robustness
from evaluator.datasets import CompiledDataset
from evaluator.metrics import true_class_rank
from evaluator.robustness.compile import RobustSets, ensure_robust_sets, read_robust_sets
from evaluator.robustness.metrics import robustness_report
from evaluator.sandbox.cgroup import DEFAULT_PIDS_MAX
from evaluator.scoring import Options, Ran, Run, Stage, run_pipeline


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
    return run_pipeline(
        dataset_dir=dataset_dir,
        model_path=model_path,
        arch=arch,
        options=Options(
            device=device,
            precision=precision,
            batch_size=batch_size,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            pids_max=pids_max,
            require_sandbox=require_sandbox,
            bootstrap_seed=bootstrap_seed,
        ),
        stage=RobustCopies(robust=tuple(names), compile_missing=compile_missing),
    )


@dataclass
class RobustCopies(Stage):
    """The transformed copies ``robust``, scored after the set by the same child."""

    robust: tuple[str, ...] = robustness.NAMES
    compile_missing: bool = True
    dataset: CompiledDataset | None = None  # the clean set, opened by the pipeline
    sets: RobustSets | None = None
    ranks: dict[str, np.ndarray] = field(default_factory=dict)  # true-class ranks per copy
    nonfinite: dict[str, int] = field(default_factory=dict)

    def open(self, dataset_dir: Path, dataset: CompiledDataset | None) -> None:
        """The copies' metadata, compiled first if absent or stale when ``compile_missing``."""
        self.dataset = dataset
        self.sets = (
            ensure_robust_sets(dataset_dir=dataset_dir, names=self.robust)
            if self.compile_missing
            else read_robust_sets(images_dir=layout.images_dir(dataset_dir), names=self.robust)
        )

    def take(self, name: str, logits: np.ndarray) -> None:
        assert self.dataset is not None
        self.ranks[name] = true_class_rank(logits, self.dataset.labels)
        self.nonfinite[name] = int((~np.isfinite(logits)).any(axis=1).sum())

    def finish(self, run: Run, ran: Ran, result: dict | None) -> dict:
        assert result is not None and run.dataset is not None and self.sets is not None
        robust = robustness_report(
            clean_ranks=true_class_rank(ran.logits, run.dataset.labels),
            robust_ranks=self.ranks,
            public_mask=run.dataset.public_mask,
            num_classes=run.dataset.num_classes,
            seed=run.options.bootstrap_seed,
        )
        robust["fingerprint"] = self.sets.fingerprint
        robust["n_nonfinite"] = self.nonfinite
        robust["timing"] = _timing(ran.info, names=self.robust)
        return {**result, "robustness": robust}


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
