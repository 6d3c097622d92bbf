"""A large hidden set scored as shards on several workers, merged into one single-run result.

Both halves are the one scoring pipeline (``evaluator.scoring``) with a stage:
- ``score_shard``: the image range [start, stop) of the set, run by the same sandboxed child
  as ``score()``; its checked logits and a small report go to the shard directory
  (``evaluator.shards.files``) instead of a report, and no label is opened;
- ``merge_shards``: exactly one file per shard index, in order, stand in for the child's run;
  the report and record are then the pipeline's own, so counts, confusion matrix and bootstrap
  intervals are those of one worker scoring the whole set.

Like the rest of the evaluator this never touches a database or a queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluator import hardware
from evaluator.datasets import CompiledDataset
from evaluator.sandbox.cgroup import DEFAULT_PIDS_MAX
from evaluator.scoring import Options, Ran, Run, Stage, run_pipeline
from evaluator.shards.files import (
    Span,
    load_logits,
    logits_file,
    read_info,
    save_logits,
    write_info,
)


def score_shard(
    *,
    dataset_dir: Path,
    model_path: Path,
    arch: str | None,
    span: Span,
    index: int,
    directory: Path,
    device: str = "cpu",
    timeout_s: float = 600,
    memory_mb: int | None = 8192,
    pids_max: int | None = DEFAULT_PIDS_MAX,
    precision: str = "fp32",
    batch_size: int = 256,
    require_sandbox: bool = False,
) -> dict:
    """Score images [start, stop) of the set; write the logits and the run's report; return it.

    The report (device, timings, sandbox) is written before the logits, so a present logits
    file always has its report. Raises the same EvaluatorErrors as ``score()``.
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
        ),
        stage=ImageRange(span=span, index=index, directory=Path(directory)),
    )


@dataclass
class ImageRange(Stage):
    """One shard: images [start, stop) only, kept in the shard directory for the merge."""

    span: Span = (0, 0)
    index: int = 0
    directory: Path = Path()
    needs_labels = False  # a shard's worker opens the images only

    def finish(self, run: Run, ran: Ran, result: dict | None) -> dict:
        start, stop = self.span
        info = {
            **ran.info,
            "index": self.index,
            "start": start,
            "stop": stop,
            "wall_seconds": ran.wall_seconds,
            "sandbox": ran.sandbox,
            "cgroup": ran.cgroup,
            "host_device": hardware.device_name(ran.device),  # named by this parent, not the child
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        write_info(directory=self.directory, index=self.index, info=info)
        save_logits(logits_file(directory=self.directory, index=self.index), ran.logits)
        return info


def merge_shards(
    *,
    dataset_dir: Path,
    model_path: Path,
    arch: str | None,
    spans: Sequence[Span],
    directory: Path,
    device: str = "cpu",
    precision: str = "fp32",
    bootstrap_seed: int = 0,
) -> dict:
    """The result ``score()`` would return, from the shards' files; one file per index.

    ``spans`` must tile the set in order. Raises ShardMissing when a shard's files are absent.
    """
    return run_pipeline(
        dataset_dir=dataset_dir,
        model_path=model_path,
        arch=arch,
        options=Options(device=device, precision=precision, bootstrap_seed=bootstrap_seed),
        stage=MergedShards(spans=tuple(spans), directory=Path(directory)),
    )


@dataclass
class MergedShards(Stage):
    """The shards' files in place of the child's run: their logits, in order, and their facts."""

    spans: tuple[Span, ...] = ()
    directory: Path = Path()
    logits: np.ndarray | None = None
    infos: list[dict] = field(default_factory=list)

    def open(self, dataset_dir: Path, dataset: CompiledDataset | None) -> None:
        """Exactly one file per shard index, each checked, before anything else is done."""
        assert dataset is not None
        _check_tiling(self.spans, n_images=dataset.n)
        self.logits = np.empty((dataset.n, dataset.num_classes), dtype=np.float32)
        for index, (start, stop) in enumerate(self.spans):
            self.infos.append(read_info(directory=self.directory, index=index))
            self.logits[start:stop] = load_logits(
                logits_file(directory=self.directory, index=index),
                rows=stop - start,
                num_classes=dataset.num_classes,
            )

    def run(self, run: Run) -> Ran:
        assert self.logits is not None
        device = run.options.device
        infos = self.infos
        return Ran(
            logits=self.logits,
            info=combined_info(infos),
            # The parent's clock on each shard (its child's start to exit, loading included),
            # summed: the work the whole set cost, as one run would have measured it.
            wall_seconds=sum(float(i.get("wall_seconds") or 0) for i in infos),
            sandbox="bwrap" if all(i.get("sandbox") == "bwrap" for i in infos) else "none",
            cgroup=_common(infos, "cgroup"),
            device=str(infos[0].get("device") or device),  # what the shards ran on, not here
            device_name=" + ".join(sorted({str(i.get("host_device") or device) for i in infos})),
        )

    def finish(self, run: Run, ran: Ran, result: dict | None) -> dict:
        assert result is not None
        return {**result, "shards": [shard_summary(i) for i in self.infos]}


def _common(infos: Sequence[dict], key: str) -> str:
    """One shard-level word for the whole run: the shards' own when they agree."""
    values = sorted({str(i.get(key) or "none") for i in infos})
    return values[0] if len(values) == 1 else "mixed: " + ", ".join(values)


def combined_info(infos: Sequence[dict]) -> dict:
    """One run's worth of facts from several: summed time, the devices used, the first batch."""
    seconds = sum(float(i.get("seconds") or 0) for i in infos)
    n = sum(int(i["stop"]) - int(i["start"]) for i in infos)
    devices = sorted({str(i.get("device_name") or "") for i in infos} - {""})
    first = infos[0] if infos else {}
    return {
        "device_name": " + ".join(devices),
        "precision": first.get("precision"),
        "batch_size": first.get("batch_size"),
        "params": first.get("params"),
        "seconds": seconds,
        # The children's own rate over their summed inference time: a claim, recorded as the
        # reported throughput only.
        "images_per_second": n / seconds if seconds > 0 else None,
    }


def shard_summary(info: dict) -> dict:
    keys = ("index", "start", "stop", "device_name", "seconds", "images_per_second")
    return {key: info.get(key) for key in (*keys, "wall_seconds", "sandbox", "cgroup")}


def _check_tiling(spans: Sequence[Span], *, n_images: int) -> None:
    expected = 0
    for start, stop in spans:
        if start != expected or stop <= start:
            raise ValueError(f"shards {list(spans)} do not tile 0..{n_images} in order")
        expected = stop
    if expected != n_images:
        raise ValueError(f"shards {list(spans)} end at {expected}, the set has {n_images}")
