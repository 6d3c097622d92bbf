"""A safetensors entry (weights + registry name) as one ONNX file, for a challenge's kit.

The network is built by the evaluator's own registry, as the sandbox builds it to score the
entry, and its weights are loaded strictly; the ONNX file takes the normalised float input
(N, C, H, W) with a dynamic batch axis. Runs in a management command or a worker, never in a
web request: it imports torch and runs the exporter.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from evaluator.spec import InputSpec

CHECK_BATCH = 8  # random inputs on which the ONNX file must agree with the network


def onnx_from_safetensors(
    *, weights: Path, arch: str, spec: InputSpec, num_classes: int, target: Path
) -> float:
    """Write ``target`` (atomically) and return the largest |logit difference| from the
    network on a seeded random batch; ValueError if any top-1 decision differs."""
    from safetensors.torch import load_file

    from baselines.export import export_onnx
    from evaluator import architectures

    model = architectures.build(arch, in_channels=spec.channels, num_classes=num_classes)
    model.load_state_dict(load_file(str(weights), device="cpu"), strict=True)
    model.eval()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    export_onnx(model, temporary, spec=spec)  # the exporter the baselines' files come from
    try:
        difference = _max_difference(model, temporary, spec=spec)
    except Exception:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, target)
    return difference


def _max_difference(model, path: Path, *, spec: InputSpec) -> float:
    import onnxruntime as ort
    import torch

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(CHECK_BATCH, spec.channels, spec.height, spec.width))
    mean = np.asarray(spec.mean, dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(spec.std, dtype=np.float32).reshape(1, -1, 1, 1)
    x = ((pixels.astype(np.float32) / 255 - mean) / std).astype(np.float32)
    with torch.inference_mode():
        expected = model(torch.from_numpy(x)).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    found = session.run(None, {session.get_inputs()[0].name: x})[0]
    if not np.array_equal(found.argmax(1), expected.argmax(1)):
        raise ValueError(f"{path.name}: the ONNX file's top-1 decisions differ from the network")
    return float(np.abs(found - expected).max())
