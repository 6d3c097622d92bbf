"""The one scoring pipeline: a model on a compiled hidden test set, end to end.

Every scoring run takes the same steps, here: open the set (the trusted parent keeps the
labels), detect the model's format from the file's content (once per run), run the model in
the sandboxed child (``evaluator.sandbox.runner``: it sees images only and returns logits),
then report (every metric, computed here from the logits) and record (the reproducibility
record stored with every score). The result is a plain JSON-serialisable dict.

Optional stages change what a run covers, never its steps (``Stage``):
- the robustness track's transformed copies, scored by the same child after the set, with
  their own report beside the clean one (``evaluator.robustness.scoring``);
- one shard's image range, whose logits are kept for the merge; the merge is the same report
  and record over every shard's logits (``evaluator.shards``).
The insights phase runs the same child on public samples instead of a set
(``evaluator.insights``).
"""

from __future__ import annotations

import hashlib
import math
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from evaluator import hardware, layout
from evaluator.datasets import CompiledDataset, open_dataset
from evaluator.datasets.store import parse_images_meta
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import detect_format
from evaluator.formats.onnx_io import model_input_layout
from evaluator.formats.params import stored_values
from evaluator.metrics import classification_report
from evaluator.sandbox.cgroup import DEFAULT_PIDS_MAX
from evaluator.sandbox.runner import run_model

# 2: params counted by the parent (params_source), throughput measured by the parent
# (throughput_source), the child's own rate kept apart (reported_throughput_img_s).
RECORD_VERSION = 2


@dataclass(frozen=True)
class Options:
    """How a run runs and reports: the same for every stage of it."""

    device: str = "cpu"
    precision: str = "fp32"
    batch_size: int = 256
    timeout_s: float = 600  # the whole run: the set and every stage's images together
    memory_mb: int | None = 8192
    pids_max: int | None = DEFAULT_PIDS_MAX
    require_sandbox: bool = False
    bootstrap_seed: int = 0


@dataclass(frozen=True)
class Run:
    """One run's inputs, each opened once: the set, the model file and its detected format."""

    dataset_dir: Path
    model_path: Path
    arch: str | None
    fmt: ModelFormat
    num_classes: int
    dataset: CompiledDataset | None  # with the labels; None where the stage needs none
    options: Options

    @property
    def images_dir(self) -> Path:
        return layout.images_dir(self.dataset_dir)


@dataclass(frozen=True)
class Ran:
    """What running the model gave the parent: checked logits and the facts of the run."""

    logits: np.ndarray  # float32 (images, num_classes)
    info: dict  # what the model's process reported about itself: claims only
    wall_seconds: float  # the parent's clock, start to exit, loading included
    sandbox: str
    cgroup: str
    device: str  # the device kind it ran on ("cpu", "cuda:0")
    device_name: str | None = None  # named by the parent that ran it; None: this one


class Stage:
    """An optional stage of the pipeline. This one adds nothing: the whole set, scored once.

    ``span`` scores the images [start, stop) only; ``robust`` names transformed copies that the
    same child scores after them. A stage that needs no labels (``needs_labels`` False) gets no
    report or record from the pipeline, only what its ``finish`` makes of the run.
    """

    needs_labels: bool = True
    span: tuple[int, int] | None = None  # [start, stop)
    robust: tuple[str, ...] = ()

    def open(self, dataset_dir: Path, dataset: CompiledDataset | None) -> None:
        """Open what the stage reads beside the set (before the format is detected)."""

    def run(self, run: Run) -> Ran:
        """Run the model in the sandboxed child: the set (or the span), then the copies."""
        options = run.options
        start, stop = self.span or (0, None)
        child = run_model(
            model_path=run.model_path,
            fmt=run.fmt,
            arch=run.arch,
            images_dir=run.images_dir,
            num_classes=run.num_classes,
            device=options.device,
            batch_size=options.batch_size,
            precision=options.precision,
            timeout_s=options.timeout_s,
            memory_mb=options.memory_mb,
            pids_max=options.pids_max,
            require_sandbox=options.require_sandbox,
            start=start,
            stop=stop,
            robust=self.robust,
            on_robust_logits=self.take,
        )
        return Ran(
            logits=child.logits,
            info=child.info,
            wall_seconds=child.wall_seconds,
            sandbox=child.sandbox,
            cgroup=child.cgroup,
            device=options.device,
        )

    def take(self, name: str, logits: np.ndarray) -> None:
        """One robustness copy's checked logits, as the parent reads them (one at a time)."""

    def finish(self, run: Run, ran: Ran, result: dict | None) -> dict:
        """The run's result: the report and record (``result``), with whatever the stage adds."""
        assert result is not None, "a stage without labels makes its own result"
        return result


def score(
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
) -> dict:
    """Score ``model_path`` on the compiled set at ``dataset_dir``.

    Raises an EvaluatorError subclass (with a stable ``code``) for anything about the model or
    the data: an unsupported or pickled file, a failed check, a timeout, a memory blow-up, a
    crash of the model's process.
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
    )


def run_pipeline(
    *,
    dataset_dir: Path,
    model_path: Path,
    arch: str | None,
    options: Options,
    stage: Stage | None = None,
) -> dict:
    """Open, detect, run, report and record, with ``stage`` (by default none) along the way."""
    stage = Stage() if stage is None else stage
    run = open_run(
        dataset_dir=dataset_dir, model_path=model_path, arch=arch, options=options, stage=stage
    )
    ran = stage.run(run)
    result = None
    if run.dataset is not None:
        # The set (or its span) and each robustness copy went through the model in this run.
        result = report_and_record(run, ran, n_images=len(ran.logits) * (1 + len(stage.robust)))
    return stage.finish(run, ran, result)


def open_run(
    *, dataset_dir: Path, model_path: Path, arch: str | None, options: Options, stage: Stage
) -> Run:
    """Open the set (with its labels where the stage reports), then what the stage reads beside
    it, then detect the model's format: the one detection of the run."""
    dataset_dir, model_path = Path(dataset_dir), Path(model_path)
    if stage.needs_labels:
        dataset = open_dataset(dataset_dir)
        num_classes = dataset.num_classes
    else:
        dataset = None
        meta, _spec = parse_images_meta(layout.images_dir(dataset_dir) / layout.META_FILE)
        num_classes = int(meta["num_classes"])
    stage.open(dataset_dir, dataset)
    return Run(
        dataset_dir=dataset_dir,
        model_path=model_path,
        arch=arch,
        fmt=detect_format(model_path),
        num_classes=num_classes,
        dataset=dataset,
        options=options,
    )


def report_and_record(run: Run, ran: Ran, *, n_images: int) -> dict:
    """Every metric of the logits against the labels, then the run's record beside them."""
    dataset = run.dataset
    assert dataset is not None, "a report needs the labels"
    report = classification_report(
        logits=ran.logits,
        labels=dataset.labels,
        public_mask=dataset.public_mask,
        num_classes=dataset.num_classes,
        seed=run.options.bootstrap_seed,
    )
    record = run_record(
        model_path=run.model_path,
        fmt=run.fmt,
        arch=run.arch,
        dataset_fingerprint=dataset.fingerprint,
        device=ran.device,
        precision=run.options.precision,
        info=ran.info,
        wall_seconds=ran.wall_seconds,
        n_images=n_images,
        sandbox=ran.sandbox,
        cgroup=ran.cgroup,
        device_name=ran.device_name,
        input_layout=model_input_layout(
            run.model_path, fmt=run.fmt, spec=dataset.spec, num_classes=dataset.num_classes
        ),
    )
    return {**report, **record}


def run_record(
    *,
    model_path: Path,
    fmt: ModelFormat,
    arch: str | None,
    dataset_fingerprint: str,
    device: str,
    precision: str,
    info: dict,
    wall_seconds: float,
    n_images: int,
    sandbox: str,
    cgroup: str,
    device_name: str | None = None,
    input_layout: str | None = None,
) -> dict:
    """The reproducibility record stored beside the metrics.

    ``info`` is what the child reported about itself: the child runs the participant's code,
    so its figures are kept only as claims. The parent counts the stored values from the file
    (``params_source`` "file"; "model" when only the child's claim exists) and measures the
    throughput itself: ``n_images`` the child ran through the model in ``wall_seconds`` (the
    parent's clock, start to exit of the child, loading included). The device is named by
    the parent too (``device_name`` where another machine ran it, as for shards), and
    ``cgroup`` says whether the run's whole-run caps held ("v1", "v2", "none: why").
    ``input_layout`` is how the images were fed ("nchw", "nhwc", "flat"), decided by the
    parent from the file's header (``formats.onnx_io``), as the child was made to run it.
    """
    params, params_source = stored_values(path=model_path, fmt=fmt), "file"
    if params is None:
        claimed = info.get("params")
        ok = type(claimed) is int and claimed >= 0
        params, params_source = (claimed, "model") if ok else (None, None)
    throughput = n_images / wall_seconds if n_images > 0 and wall_seconds > 0 else None
    return {
        "record_version": RECORD_VERSION,
        "model_sha256": file_sha256(model_path),
        "dataset_fingerprint": dataset_fingerprint,
        "format": fmt.value,
        "arch": arch,
        "input_layout": input_layout,
        "device": device_name or hardware.device_name(device),
        "device_kind": device,
        "precision": str(info.get("precision") or precision),
        "batch_size": info.get("batch_size"),
        "params": params,
        "params_source": params_source,
        "throughput_img_s": throughput,
        "throughput_source": "parent" if throughput is not None else None,
        "reported_throughput_img_s": _claimed_number(info.get("images_per_second")),
        "inference_seconds": _claimed_number(info.get("seconds")),
        "wall_seconds": wall_seconds,
        "sandbox": sandbox,
        "cgroup": cgroup,
        "versions": library_versions(),
    }


def _claimed_number(value: object) -> float | None:
    """A figure the child reported, kept if it is a finite non-negative number."""
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def library_versions() -> dict[str, str | None]:
    """Versions in the trusted parent's environment (the child runs the same one)."""
    return {
        "python": platform.python_version(),
        "torch": _version("torch"),
        "torchvision": _version("torchvision"),
        "onnxruntime": _version("onnxruntime") or _version("onnxruntime-gpu"),
        "numpy": _version("numpy"),
    }
