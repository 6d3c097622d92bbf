"""What a loader hands to the inference loop, whatever the file format was."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ModelFormat(StrEnum):
    ONNX = "onnx"
    SAFETENSORS = "safetensors"
    TORCH_EXPORT = "pt2"
    TORCHSCRIPT = "torchscript"


# Formats whose loading can run code: loaded only inside the sandbox child.
CODE_EXECUTING = frozenset({ModelFormat.TORCH_EXPORT, ModelFormat.TORCHSCRIPT})


@dataclass
class LoadedModel:
    """A ready-to-run model.

    ``kind`` is "torch" (``module`` is a callable taking a float NCHW tensor on ``device``) or
    "onnx" (``session`` is an onnxruntime InferenceSession fed float32 NCHW numpy arrays).
    ``fixed_batch`` is set when the model only accepts one batch size (a static ONNX input).
    An ONNX model reads its input in ``input_layout`` ("nchw", "nhwc" or "flat": the batch is
    transposed or flattened after normalisation) and is read at ``output_name``
    (``formats.onnx_io``); None reads its first output.
    ``params`` is None where the weights are not readable.
    """

    kind: str
    format: ModelFormat
    module: Any = None
    session: Any = None
    input_name: str | None = None
    fixed_batch: int | None = None
    input_layout: str = "nchw"
    output_name: str | None = None
    params: int | None = None
    device: str = "cpu"
