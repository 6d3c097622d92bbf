"""The child's stage of the robustness track: the loaded model on each transformed copy.

Runs inside the sandbox, after the clean set, with the model already loaded: each copy under
``images/robust/`` goes through the same loop as the clean set (``infer``, the child's
``run_inference`` with its settings: uint8 batches, normalised on the device, the GPU stager
reading the memory-mapped file), and its logits are written as soon as they exist. Labels are
not mounted here either.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evaluator import robustness
from evaluator.errors import DatasetError
from evaluator.formats.base import LoadedModel
from evaluator.sandbox import protocol
from evaluator.spec import InputSpec

if TYPE_CHECKING:
    from evaluator.inference import InferenceResult

# infer(model=, images=, spec=, num_classes=, what=): the child's scoring loop and its checks.
Infer = Callable[..., "InferenceResult"]


def score_robust_copies(
    *,
    names: list[str],
    model: LoadedModel,
    infer: Infer,
    images_dir: Path,
    meta: dict,
    start: int | None,
    stop: int | None,
    out: Path,
) -> dict:
    """Score each copy in ``names`` (images [start, stop), as the clean set was); returns each
    one's timing for info.json."""
    from evaluator.datasets.store import image_slice
    from evaluator.robustness.compile import open_robust_images

    spec = InputSpec.from_dict(meta["spec"])
    num_classes = int(meta["num_classes"])
    shape = (int(meta["n"]), spec.channels, spec.height, spec.width)
    timings: dict[str, dict] = {}
    for name in names:
        images = open_robust_images(images_dir=images_dir, name=name, shape=shape)
        images = image_slice(images, start=start, stop=stop)
        result = infer(
            model=model,
            images=images,
            spec=spec,
            num_classes=num_classes,
            what=f"while scoring the {name} copy",
        )
        del images  # unmapped before the next copy: the address-space cap counts mappings
        logits = result.logits.astype(np.float32, copy=False)
        np.save(out / protocol.robust_logits_file(name), logits)
        timings[name] = {
            "seconds": result.seconds,
            "images_per_second": result.images_per_second,
            "n_nonfinite": result.n_nonfinite,
        }
    return timings


def parse_names(text: str) -> list[str]:
    """Comma-separated catalogue names; anything else is refused before any work."""
    names = [part for part in text.split(",") if part]
    unknown = [name for name in names if name not in robustness.BY_NAME]
    if unknown or not names:
        raise DatasetError(f"unknown robustness transform(s): {', '.join(unknown) or '(none)'}")
    return names
