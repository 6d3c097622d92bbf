"""The full ONNX check: parse the protobuf and require a usable graph held in the one file.

Parsing a whole protobuf costs time and memory that the file's author controls (a crafted
10 MB file can take seconds and hundreds of megabytes), so this runs inside the sandbox child,
under its memory cap, before onnxruntime sees the file. The web upload and the worker's parent
only check the outline (``formats.onnx_wire``). Failures are UnsupportedFormat, a code the
child may report, with the same messages the upload check used to give.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from evaluator.errors import UnsupportedFormat
from evaluator.formats.detect import ACCEPTED

if TYPE_CHECKING:
    import onnx


def check_onnx(path: Path) -> onnx.ModelProto:
    """The parsed model (no external data loaded), or UnsupportedFormat saying what is wrong."""
    import onnx  # heavy: imported only where an ONNX model is loaded

    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except MemoryError:
        raise
    except Exception as exc:
        raise UnsupportedFormat(
            f"{path.name} is not a model file in an accepted format: {ACCEPTED}."
        ) from exc
    graph = model.graph
    if model.ir_version <= 0 or not graph.input or not graph.output or not graph.node:
        raise UnsupportedFormat(
            f"{path.name} is not a valid ONNX model (no graph with inputs, outputs and nodes). "
            f"Accepted: {ACCEPTED}."
        )
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in _all_tensors(model)):
        raise UnsupportedFormat(
            f"{path.name}: the ONNX model references external data files, which are not "
            "accepted. Save it with all weights inside the one file "
            "(onnx.save_model(model, path, save_as_external_data=False))."
        )
    return model


def _all_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every TensorProto in the model: initializers and attribute tensors, subgraphs included."""
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            yield from _node_tensors(node)


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        yield from _node_tensors(node)


def _node_tensors(node: onnx.NodeProto) -> Iterator[onnx.TensorProto]:
    for attr in node.attribute:
        if attr.HasField("t"):
            yield attr.t
        yield from attr.tensors
        if attr.HasField("sparse_tensor"):
            yield attr.sparse_tensor.values
        if attr.HasField("g"):
            yield from _graph_tensors(attr.g)
        for sub in attr.graphs:
            yield from _graph_tensors(sub)
