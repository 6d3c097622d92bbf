"""The child's side of the robustness track: the loaded model on each transformed copy.

Runs inside the sandbox, after the clean set, with the model already loaded: each copy under
``images/robust/`` goes through the same loop as the clean set (``run_inference``: uint8
batches, normalised on the device, the GPU stager reading the memory-mapped file), and its
logits are written as soon as they exist. Labels are not mounted here either.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from evaluator import robustness
from evaluator.errors import DatasetError
from evaluator.formats.base import LoadedModel
from evaluator.sandbox import protocol
from evaluator.spec import InputSpec


def score_robust_copies(args: argparse.Namespace, *, model: LoadedModel, meta: dict) -> dict:
    """Score every copy named by ``--robust``; returns each one's timing for info.json."""
    from evaluator.robustness.compile import open_robust_images
    from evaluator.sandbox.child import image_slice, infer

    spec = InputSpec.from_dict(meta["spec"])
    num_classes = int(meta["num_classes"])
    shape = (int(meta["n"]), spec.channels, spec.height, spec.width)
    timings: dict[str, dict] = {}
    for name in parse_names(args.robust):
        images = open_robust_images(images_dir=Path(args.images), name=name, shape=shape)
        images = image_slice(images, start=args.start, stop=args.stop)
        result = infer(
            args,
            model=model,
            images=images,
            spec=spec,
            num_classes=num_classes,
            what=f"while scoring the {name} copy",
        )
        del images  # unmapped before the next copy: the address-space cap counts mappings
        out = Path(args.out) / protocol.robust_logits_file(name)
        np.save(out, result.logits.astype(np.float32, copy=False))
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
