"""The insights phase, inside the sandbox: run the model on public sample images only.

    python -m evaluator.sandbox.child --model M --format F [--arch A] --samples DIR --out OUTDIR

(``evaluator.sandbox.child`` loads the model and hands this stage its loader and scoring loop.)

DIR holds ``samples.npy`` (uint8 N x C x H x W training-split images, the challenge's input
spec) and ``request.json`` (spec, number of classes, occlusion grid, which samples to occlude);
no hidden test image and no label is mounted. Each result is written as soon as it exists, so a
timeout late in the phase still leaves the earlier ones for the parent: the first convolution's
weights (torch formats only), the samples' logits, then the occluded copies' logits, one sample
at a time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evaluator.formats.base import LoadedModel
from evaluator.insights.filters import (
    FiltersUnavailable,
    first_conv_of_module,
    first_conv_of_onnx,
)
from evaluator.insights.occlusion import OcclusionGrid, fill_colour, occluded_copies
from evaluator.sandbox import protocol
from evaluator.spec import InputSpec

if TYPE_CHECKING:
    from evaluator.inference import InferenceResult

# load(spec=, num_classes=) and infer(model=, images=, spec=, num_classes=, what=): the child's
# loader and scoring loop with its command line's settings (``evaluator.sandbox.child``).
Load = Callable[..., LoadedModel]
Infer = Callable[..., "InferenceResult"]


def run_insights(
    *, samples_dir: Path, out: Path, model_path: Path, load: Load, infer: Infer
) -> dict:
    """Write filters.npy, samples_logits.npy and occlusion.npy to ``out``; return info."""
    start = time.perf_counter()
    request = json.loads((samples_dir / protocol.REQUEST_FILE).read_text(encoding="utf-8"))
    samples = np.load(samples_dir / protocol.SAMPLES_FILE, allow_pickle=False)
    spec = InputSpec.from_dict(request["spec"])
    num_classes = int(request["num_classes"])
    model = load(spec=spec, num_classes=num_classes)
    info: dict = {}
    if request.get("filters"):
        info["filters_error"] = _save_filters(model, out, path=model_path)

    def run(images: np.ndarray) -> np.ndarray:
        """uint8 images in, float32 logits out, through the scoring loop and its checks."""
        result = infer(
            model=model,
            images=images,
            spec=spec,
            num_classes=num_classes,
            what="on the sample images",
        )
        return result.logits.astype(np.float32, copy=False)

    np.save(out / protocol.SAMPLES_LOGITS_FILE, run(samples))
    grid = OcclusionGrid.from_dict(request["occlusion"]["grid"])
    fill = fill_colour(spec)
    done: list[np.ndarray] = []
    for index in request["occlusion"]["indices"]:
        done.append(run(occluded_copies(samples[int(index)], grid=grid, fill=fill)))
        np.save(out / protocol.OCCLUSION_FILE, np.stack(done))  # rewritten after each sample
    info["seconds"] = time.perf_counter() - start
    return info


def _save_filters(model: LoadedModel, out: Path, *, path: Path) -> str | None:
    """Save the first convolution's weight; return why not when there is none to draw.

    An ONNX file is parsed here, under the run's memory cap, never in the worker.
    """
    try:
        if model.kind == "torch":
            conv = first_conv_of_module(model.module)
        else:
            conv = first_conv_of_onnx(path)
    except FiltersUnavailable as exc:
        return str(exc)
    np.save(out / protocol.FILTERS_FILE, conv.weight)
    (out / protocol.FILTERS_NAME_FILE).write_text(json.dumps({"name": conv.name[:200]}))
    return None
