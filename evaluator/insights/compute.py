"""What the network sees: the ImageNet era's figures, computed for one submitted model.

- Top-5 guesses with softmax confidences on a challenge's sample images (AlexNet's Figure 4).
- The first convolution's filters as an image grid (AlexNet's Figure 3).
- Occlusion-sensitivity heat maps (Zeiler & Fergus, ECCV 2014, Figure 7).

Only public sample images, taken from the TRAINING split, are ever used: the hidden test set is
not even mounted. The model runs in the sandbox (``evaluator.insights.child``, launched like
every phase by ``evaluator.sandbox.runner.launch``); this trusted side reads the arrays it
returns as untrusted input and draws the panels from them (``panels``). Nothing here raises for
a problem with the model: a failed panel is recorded as a message, and what did finish is kept,
so insights never fail a score.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluator.errors import EvaluatorError, first_line
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import detect_format
from evaluator.insights.filters import (
    FiltersUnavailable,
    FirstConv,
    checked_weight,
    first_conv_of_safetensors,
)
from evaluator.insights.occlusion import OcclusionGrid, occlusion_grid
from evaluator.insights.panels import (
    TOP_K,
    filters_panel,
    occlusion_panel,
    samples_panel,
    softmax,
)
from evaluator.insights.render import heat_legend
from evaluator.sandbox import outputs, protocol
from evaluator.sandbox.bwrap import Bind
from evaluator.sandbox.cgroup import DEFAULT_PIDS_MAX
from evaluator.sandbox.process import Completed, describe_signal
from evaluator.sandbox.runner import ChildJob, launch, observed_failure
from evaluator.spec import InputSpec

INSIGHTS_VERSION = 1
MAX_SAMPLES = 8  # AlexNet's Figure 4 shows eight
OCCLUSION_SAMPLES = 3
_MAX_FILTER_BYTES = 64 * 2**20


@dataclass
class _ChildResult:
    """What the sandboxed phase left behind, each part checked; ``error`` says why it stopped."""

    logits: np.ndarray | None = None
    occlusion: np.ndarray | None = None
    filters: FirstConv | None = None
    info: dict = field(default_factory=dict)
    error: str | None = None
    sandbox: str | None = None
    wall_seconds: float | None = None


def compute_insights(
    *,
    model_path: Path,
    arch: str | None,
    samples: np.ndarray,
    labels: list[int] | np.ndarray,
    class_names: list[str],
    spec: InputSpec,
    device: str = "cpu",
    timeout_s: float = 120,
    memory_mb: int | None = 8192,
    pids_max: int | None = DEFAULT_PIDS_MAX,
    batch_size: int = 64,
    precision: str = "fp32",
    require_sandbox: bool = False,
    sandbox: str = "auto",
    max_samples: int = MAX_SAMPLES,
    occlusion_samples: int = OCCLUSION_SAMPLES,
    model_format: str | None = None,
) -> dict:
    """The insights of ``model_path`` on labelled public ``samples`` (uint8 N x C x H x W).

    Returns a JSON-serialisable dict: ``samples`` (top-k guesses), ``filters`` (a grid PNG),
    ``occlusion`` (heat maps), and ``errors`` (panel -> message) for whatever could not be
    computed. Raises ValueError only for arguments that break the contract (wrong shapes).
    ``model_format``: what the scoring run just detected for this file, so a worker detects the
    format once per submission.
    """
    model_path = Path(model_path)
    samples, labels_arr = _checked_samples(samples, labels, spec=spec, classes=len(class_names))
    samples, labels_arr = samples[:max_samples], labels_arr[:max_samples]
    grid = occlusion_grid(height=spec.height, width=spec.width)
    occluded = list(range(min(occlusion_samples, len(samples))))
    errors: dict[str, str] = {}
    known = model_format in {f.value for f in ModelFormat}
    try:
        fmt = ModelFormat(model_format) if known else detect_format(model_path)
    except EvaluatorError as exc:
        return {"version": INSIGHTS_VERSION, "error": exc.message, "errors": {}}
    filters = _parent_filters(
        fmt=fmt,
        model_path=model_path,
        arch=arch,
        spec=spec,
        classes=len(class_names),
        errors=errors,
    )
    child = _run_child(
        model_path=model_path,
        fmt=fmt,
        arch=arch,
        samples=samples,
        request={
            "spec": spec.to_dict(),
            "num_classes": len(class_names),
            "filters": fmt is not ModelFormat.SAFETENSORS,
            "occlusion": {"grid": grid.to_dict(), "indices": occluded},
        },
        device=device,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        pids_max=pids_max,
        batch_size=batch_size,
        precision=precision,
        require_sandbox=require_sandbox,
        sandbox=sandbox,
    )
    if filters is None and child.filters is not None:
        filters = child.filters
    elif filters is None and "filters" not in errors:
        errors["filters"] = str(child.info.get("filters_error") or child.error or "not computed")
    if child.logits is None:
        errors["samples"] = child.error or "the model returned no scores"
    probs = softmax(child.logits) if child.logits is not None else None
    occlusion = occlusion_panel(
        occlusion=child.occlusion,
        reason=child.error,
        probs=probs,
        samples=samples,
        labels=labels_arr,
        grid=grid,
        indices=occluded,
        class_names=class_names,
        errors=errors,
    )
    return {
        "version": INSIGHTS_VERSION,
        "format": fmt.value,
        "top_k": min(TOP_K, len(class_names)),
        "samples": samples_panel(
            samples=samples,
            labels=labels_arr,
            logits=child.logits,
            probs=probs,
            class_names=class_names,
        ),
        "filters": filters_panel(filters) if filters is not None else None,
        "occlusion": occlusion,
        "heat_legend": heat_legend(),
        "errors": errors,
        "sandbox": child.sandbox,
        "device": device,
        "wall_seconds": child.wall_seconds,
    }


def _checked_samples(
    samples: np.ndarray, labels: list[int] | np.ndarray, *, spec: InputSpec, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    expected = (spec.channels, spec.height, spec.width)
    samples = np.asarray(samples)
    if samples.dtype != np.uint8 or samples.ndim != 4 or samples.shape[1:] != expected:
        raise ValueError(f"samples must be uint8 (N, {', '.join(map(str, expected))})")
    labels_arr = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(samples) == 0 or len(labels_arr) != len(samples):
        raise ValueError("need at least one sample image and one label per image")
    if labels_arr.min() < 0 or labels_arr.max() >= classes:
        raise ValueError(f"sample labels must lie in 0..{classes - 1}")
    return np.ascontiguousarray(samples), labels_arr


def _parent_filters(
    *,
    fmt: ModelFormat,
    model_path: Path,
    arch: str | None,
    spec: InputSpec,
    classes: int,
    errors: dict[str, str],
) -> FirstConv | None:
    """Safetensors weights, read here from the header's offsets: nothing runs, little is read.

    An ONNX file's filters are read in the child instead: parsing the whole protobuf can take
    far more memory than the file's size, so it happens under the run's memory cap.
    """
    try:
        if fmt is ModelFormat.SAFETENSORS and arch:
            return first_conv_of_safetensors(
                model_path, arch=arch, in_channels=spec.channels, num_classes=classes
            )
    except FiltersUnavailable as exc:
        errors["filters"] = str(exc)
    except Exception as exc:  # a damaged file: say so, the other panels go on
        errors["filters"] = (
            f"the first layer's weights could not be read: {first_line(exc, limit=300, empty='')}"
        )
    return None


def _run_child(
    *,
    model_path: Path,
    fmt: ModelFormat,
    arch: str | None,
    samples: np.ndarray,
    request: dict,
    device: str,
    timeout_s: float,
    memory_mb: int | None,
    pids_max: int | None,
    batch_size: int,
    precision: str,
    require_sandbox: bool,
    sandbox: str,
) -> _ChildResult:
    """Run the insights phase in the sandbox; keep whatever it finished, even on a timeout."""
    work = Path(tempfile.mkdtemp(prefix="evaluator-insights-"))
    try:
        samples_dir = work / "samples"
        samples_dir.mkdir()
        np.save(samples_dir / protocol.SAMPLES_FILE, samples)
        (samples_dir / protocol.REQUEST_FILE).write_text(json.dumps(request), encoding="utf-8")
        job = ChildJob(
            model_path=model_path,
            fmt=fmt,
            arch=arch,
            inputs=Bind(samples_dir, "samples"),
            args=(),
            outputs=(
                protocol.SAMPLES_LOGITS_FILE,
                protocol.OCCLUSION_FILE,
                protocol.FILTERS_FILE,
                protocol.FILTERS_NAME_FILE,
                protocol.INFO_FILE,
                protocol.ERROR_FILE,
            ),
            device=device,
            batch_size=batch_size,
            precision=precision,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            file_mb=64,
            pids_max=pids_max,
            require_sandbox=require_sandbox,
            sandbox=sandbox,
            out_prefix="evaluator-insights-out-",
        )
        result = _ChildResult()
        with launch(job) as launched:
            done, out = launched.done, launched.out
            if launched.error is not None:  # a timeout, or no sandbox where one is required
                result.error = launched.error.message
            elif done is not None:
                result.error = _ending(done, out, memory_mb=memory_mb)
                result.sandbox, result.wall_seconds = done.sandbox, round(done.wall_seconds, 3)
                result.info = outputs.read_json(out.file(protocol.INFO_FILE)) or {}
            _read_outputs(result, out=out, n=len(samples), request=request)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ending(done: Completed, out: outputs.OutputDir, *, memory_mb: int | None) -> str | None:
    """None for a clean exit, otherwise what the parent saw, the child's message, or the exit."""
    observed = observed_failure(done, memory_mb=memory_mb)
    if observed is not None:
        return observed.message
    report = outputs.read_json(out.file(protocol.ERROR_FILE))
    if report is not None:
        error = protocol.error_from_report(report)
        return error.message if error else protocol.unaccepted_report(report)
    if done.signal is not None:
        return f"the model's process died from signal {describe_signal(done.signal)}"
    if done.returncode != protocol.EXIT_OK:
        return f"the model's process exited with status {done.returncode}"
    return None


def _read_outputs(result: _ChildResult, *, out: outputs.OutputDir, n: int, request: dict) -> None:
    """Each array the child wrote, if present and exactly the expected shape; else left None."""
    classes = int(request["num_classes"])
    positions = OcclusionGrid.from_dict(request["occlusion"]["grid"]).positions
    logits = _read_array(out.file(protocol.SAMPLES_LOGITS_FILE), max_elements=n * classes)
    result.logits = logits if logits is not None and logits.shape == (n, classes) else None
    wanted = len(request["occlusion"]["indices"])
    occlusion = _read_array(
        out.file(protocol.OCCLUSION_FILE), max_elements=wanted * positions * classes
    )
    if occlusion is not None and occlusion.shape[1:] == (positions, classes):
        result.occlusion = occlusion
    weight = _read_array(out.file(protocol.FILTERS_FILE), max_elements=_MAX_FILTER_BYTES // 4)
    if weight is not None:
        name_report = outputs.read_json(out.file(protocol.FILTERS_NAME_FILE)) or {}
        name = str(name_report.get("name") or "")
        try:
            result.filters = checked_weight(weight, name=protocol.clean_text(name, limit=200))
        except FiltersUnavailable as exc:
            result.info["filters_error"] = str(exc)
    elif isinstance(result.info.get("filters_error"), str):
        result.info["filters_error"] = protocol.clean_text(result.info["filters_error"], 500)


def _read_array(path: Path, *, max_elements: int) -> np.ndarray | None:
    """A float array through the one reader of child outputs; None for anything unusable."""
    try:
        return outputs.read_array(path, max_elements=max_elements)
    except outputs.UntrustedFile:
        return None
