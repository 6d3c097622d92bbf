"""Submission files of a trained network: safetensors weights (+ architecture name) and ONNX.

safetensors holds only tensors (no pickle), loadable by the registry name stored in its
metadata; ONNX holds the whole graph, so it scores even where the ``baselines`` package is not
installed. Both take the normalised float input the evaluator feeds (N, C, H, W).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from baselines.data import Normalise
from evaluator.spec import InputSpec

ONNX_OPSET = 17


def export_safetensors(
    model: nn.Module, path: Path, *, arch: str, metadata: dict[str, str] | None = None
) -> Path:
    """The state dict, with ``arch`` (the registry name) in the header's metadata."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={"arch": arch, **(metadata or {})})
    return path


def export_onnx(
    model: nn.Module, path: Path, *, spec: InputSpec, metadata: dict[str, str] | None = None
) -> Path:
    """Traced at the challenge's input size with a dynamic batch axis (TorchScript exporter)."""
    import onnx

    model = model.cpu().eval()
    example = torch.zeros(2, spec.channels, spec.height, spec.width)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=False,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=ONNX_OPSET,
        )
    graph = onnx.load(str(path))
    for key, value in (metadata or {}).items():
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, str(path))
    return path


def onnx_max_difference(
    model: nn.Module, path: Path, *, images: torch.Tensor, spec: InputSpec
) -> float:
    """Largest |logit difference| between the ONNX file and ``model`` on uint8 ``images``.

    Raises ValueError if any top-1 decision differs: an export that changes answers must not
    be submitted.
    """
    import onnxruntime as ort

    x = Normalise(spec, "cpu")(images.cpu())
    with torch.inference_mode():
        expected = model.cpu().eval()(x).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    found = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    if not np.array_equal(found.argmax(1), expected.argmax(1)):
        raise ValueError(f"{path.name}: ONNX top-1 decisions differ from the trained network")
    return float(np.abs(found - expected).max())
