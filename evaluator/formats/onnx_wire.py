"""What the trusted parent learns about an ONNX file from its wire format, never parsing it whole.

``outline`` checks, from the top-level fields alone, that a file is an onnx.ModelProto with a
graph: a few reads whatever the file's size, so the web request that takes an upload does not
run ``onnx.load`` (a crafted 10 MB protobuf costs seconds and hundreds of megabytes to parse).
The full check runs where memory is capped, in the sandbox child (``formats.onnx_check``).

``stored_values`` counts the values of every tensor held in the file: graph initializers
(sparse ones by their non-zero values), tensors in node attributes (Constant nodes), in
subgraphs (If, Loop, Scan) and in model-local functions. It reads tensor dimensions only and
skips their data. Field numbers are onnx.proto's (ModelProto, GraphProto, NodeProto,
AttributeProto, TensorProto, SparseTensorProto, FunctionProto).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from evaluator.formats.protowire import (
    FIXED32,
    FIXED64,
    LENGTH,
    VARINT,
    Budget,
    Buffer,
    WireError,
    fields,
    packed_varints,
)

OUTLINE_FIELDS = 100_000  # top-level fields: ir_version, opsets, graph, metadata, functions
COUNT_FIELDS = 2_000_000  # every field visited while counting (about a second of work)
MAX_DEPTH = 16  # subgraphs inside subgraphs

# ModelProto: field number -> wire type. The graph is field 7, model-local functions 25.
_MODEL_FIELDS = {1: VARINT, 2: LENGTH, 3: LENGTH, 4: LENGTH, 5: VARINT, 6: LENGTH, 7: LENGTH}
_MODEL_FIELDS |= {8: LENGTH, 14: LENGTH, 20: LENGTH, 25: LENGTH, 26: LENGTH}
_GRAPH_FIELDS = {1: LENGTH, 2: LENGTH, 5: LENGTH, 10: LENGTH, 11: LENGTH, 12: LENGTH}
_GRAPH_FIELDS |= {13: LENGTH, 14: LENGTH, 15: LENGTH, 16: LENGTH}
_GRAPH, _FUNCTIONS = 7, 25
_NODE, _INITIALIZER, _SPARSE_INITIALIZER = 1, 5, 15  # GraphProto
_ATTRIBUTE = 5  # NodeProto
_FUNCTION_NODE = 7  # FunctionProto
# AttributeProto: one tensor, sparse tensor or graph (merged when repeated), or lists of them.
_T, _SPARSE_T, _G, _TENSORS, _SPARSE_TENSORS, _GRAPHS = 5, 22, 6, 10, 23, 11
_DIMS = 1  # TensorProto.dims (repeated int64, packed or not)
_SPARSE_VALUES = 1  # SparseTensorProto.values
_MAX_DIM = 1 << 62


@dataclass(frozen=True)
class Outline:
    ir_version: int
    has_graph: bool


def outline(buf: Buffer, size: int) -> Outline:
    """The top-level fields, checked against ModelProto's: WireError if they are not one.

    A known field must have its declared wire type; an unknown one (a newer ONNX) is skipped,
    as protobuf does. The graph's first field must be a GraphProto field.
    """
    ir_version, has_graph = 0, False
    for number, wire, a, b in fields(buf, 0, size, budget=Budget(OUTLINE_FIELDS)):
        expected = _MODEL_FIELDS.get(number, wire)
        if wire != expected:
            raise WireError(f"ModelProto field {number} has wire type {wire}, not {expected}")
        if number == 1:
            ir_version = a
        elif number == _GRAPH and b > a:
            _check_graph_start(buf, a, b)
            has_graph = True
    return Outline(ir_version=ir_version, has_graph=has_graph)


def stored_values(buf: Buffer, size: int) -> int:
    """Values of every tensor stored in the model; WireError if malformed or too costly."""
    budget = Budget(COUNT_FIELDS)
    total = 0
    for number, wire, a, b in fields(buf, 0, size, budget=budget):
        if number == _GRAPH and wire == LENGTH:
            total += _graph_values(buf, a, b, budget=budget, depth=0)
        elif number == _FUNCTIONS and wire == LENGTH:
            total += _nodes_values(buf, a, b, _FUNCTION_NODE, budget=budget, depth=0)
    return total


def _check_graph_start(buf: Buffer, start: int, end: int) -> None:
    for number, wire, _a, _b in fields(buf, start, end, budget=Budget(1)):
        expected = _GRAPH_FIELDS.get(number, wire)
        if wire != expected:
            raise WireError(f"GraphProto field {number} has wire type {wire}, not {expected}")
        return


def _graph_values(buf: Buffer, start: int, end: int, *, budget: Budget, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise WireError(f"subgraphs nested more than {MAX_DEPTH} deep")
    total = 0
    for number, wire, a, b in fields(buf, start, end, budget=budget):
        if wire != LENGTH:
            continue
        if number == _INITIALIZER:
            total += _tensor_values(buf, [(a, b)], budget=budget)
        elif number == _SPARSE_INITIALIZER:
            total += _sparse_values(buf, [(a, b)], budget=budget)
        elif number == _NODE:
            total += _node_values(buf, a, b, budget=budget, depth=depth)
    return total


def _nodes_values(
    buf: Buffer, start: int, end: int, node_field: int, *, budget: Budget, depth: int
) -> int:
    """The nodes of a FunctionProto (field 7 there, not 1 as in a graph)."""
    return sum(
        _node_values(buf, a, b, budget=budget, depth=depth)
        for number, wire, a, b in fields(buf, start, end, budget=budget)
        if number == node_field and wire == LENGTH
    )


def _node_values(buf: Buffer, start: int, end: int, *, budget: Budget, depth: int) -> int:
    return sum(
        _attribute_values(buf, a, b, budget=budget, depth=depth)
        for number, wire, a, b in fields(buf, start, end, budget=budget)
        if number == _ATTRIBUTE and wire == LENGTH
    )


def _attribute_values(buf: Buffer, start: int, end: int, *, budget: Budget, depth: int) -> int:
    """A singular tensor field that occurs twice is one tensor, merged (its dims concatenated),
    as protobuf parses it: counting the parts apart could undercount it."""
    total = 0
    tensor: list[tuple[int, int]] = []
    sparse: list[tuple[int, int]] = []
    for number, wire, a, b in fields(buf, start, end, budget=budget):
        if wire != LENGTH:
            continue
        if number == _T:
            tensor.append((a, b))
        elif number == _SPARSE_T:
            sparse.append((a, b))
        elif number == _TENSORS:
            total += _tensor_values(buf, [(a, b)], budget=budget)
        elif number == _SPARSE_TENSORS:
            total += _sparse_values(buf, [(a, b)], budget=budget)
        elif number in (_G, _GRAPHS):  # a repeated graph field merges by concatenation: a sum
            total += _graph_values(buf, a, b, budget=budget, depth=depth + 1)
    if tensor:
        total += _tensor_values(buf, tensor, budget=budget)
    if sparse:
        total += _sparse_values(buf, sparse, budget=budget)
    return total


def _sparse_values(buf: Buffer, spans: list[tuple[int, int]], *, budget: Budget) -> int:
    """A sparse tensor stores its non-zero values: the size of its ``values`` tensor."""
    values = [
        (a, b)
        for start, end in spans
        for number, wire, a, b in fields(buf, start, end, budget=budget)
        if number == _SPARSE_VALUES and wire == LENGTH
    ]
    return _tensor_values(buf, values, budget=budget) if values else 0


def _tensor_values(buf: Buffer, spans: list[tuple[int, int]], *, budget: Budget) -> int:
    """The product of the dims (1 for a scalar), read from one tensor's occurrences."""
    dims: list[int] = []
    for start, end in spans:
        for number, wire, a, b in fields(buf, start, end, budget=budget):
            if number != _DIMS:
                continue
            if wire == VARINT:
                dims.append(a)
            elif wire == LENGTH:
                dims.extend(packed_varints(buf, a, b, budget=budget))
            elif wire in (FIXED32, FIXED64):
                raise WireError("TensorProto.dims with a fixed-width wire type")
    if any(d >= _MAX_DIM for d in dims):  # a negative int64 is a ten-byte varint
        raise WireError("a tensor with a negative or absurd dimension")
    return math.prod(dims)


# GraphProto's inputs and outputs (ValueInfoProto) and the types they declare (TypeProto).
_GRAPH_INPUT, _GRAPH_OUTPUT = 11, 12
_TENSOR_NAME = 8  # TensorProto.name
_VALUE_NAME, _VALUE_TYPE = 1, 2  # ValueInfoProto
_TENSOR_TYPE, _SEQUENCE_TYPE, _MAP_TYPE, _SPARSE_TYPE, _OPTIONAL_TYPE = 1, 4, 5, 8, 9
_KINDS = {
    _TENSOR_TYPE: "tensor",
    _SEQUENCE_TYPE: "sequence",
    _MAP_TYPE: "map",
    _SPARSE_TYPE: "sparse tensor",
    _OPTIONAL_TYPE: "optional",
}
_ELEM_TYPE, _SHAPE = 1, 2  # TypeProto.Tensor; a Sequence's element type is field 1 too
_DIM = 1  # TensorShapeProto
_DIM_VALUE, _DIM_PARAM = 1, 2  # TensorShapeProto.Dimension
_MAX_NAME_BYTES = 64 * 1024


@dataclass(frozen=True)
class ValueInfo:
    """A graph input or output as declared: ``kind`` "tensor", "sequence of maps", "sequence",
    "map", "sparse tensor", "optional" or "undeclared"; ``elem_type`` a TensorProto.DataType
    (0 when not declared); ``dims`` None when no shape is declared, else each dimension's
    size, its symbolic name, or None when it has neither."""

    name: str
    kind: str
    elem_type: int = 0
    dims: tuple[int | str | None, ...] | None = None


@dataclass(frozen=True)
class GraphIo:
    inputs: tuple[ValueInfo, ...]
    outputs: tuple[ValueInfo, ...]
    initializers: frozenset[str]  # names of stored tensors (old exporters list them as inputs)


def graph_io(buf: Buffer, size: int, *, max_fields: int) -> GraphIo:
    """The graph's declared inputs and outputs, from at most ``max_fields`` fields (WireError,
    OverBudget past that). Initializer names are read only when there are several inputs.

    Repeated occurrences of a message merge as protobuf merges them: repeated fields
    concatenate, a scalar's last value wins, and a oneof member replaces another.
    """
    budget = Budget(max_fields)
    graphs = [
        (a, b) for n, w, a, b in fields(buf, 0, size, budget=budget) if n == _GRAPH and w == LENGTH
    ]
    inputs: list[ValueInfo] = []
    outputs: list[ValueInfo] = []
    stored: list[tuple[int, int, int]] = []
    for start, end in graphs:
        for number, wire, a, b in fields(buf, start, end, budget=budget):
            if wire != LENGTH:
                continue
            if number == _GRAPH_INPUT:
                inputs.append(_value_info(buf, a, b, budget=budget))
            elif number == _GRAPH_OUTPUT:
                outputs.append(_value_info(buf, a, b, budget=budget))
            elif number in (_INITIALIZER, _SPARSE_INITIALIZER):
                stored.append((number, a, b))
    names: set[str] = set()
    if len(inputs) > 1:
        for number, a, b in stored:
            names.add(_stored_name(buf, number, a, b, budget=budget))
    return GraphIo(inputs=tuple(inputs), outputs=tuple(outputs), initializers=frozenset(names))


def _stored_name(buf: Buffer, number: int, start: int, end: int, *, budget: Budget) -> str:
    """An initializer's name; a sparse one's is its ``values`` tensor's."""
    if number == _SPARSE_INITIALIZER:
        spans = _spans(buf, start, end, _SPARSE_VALUES, budget=budget)
        return _last_string(buf, spans, _TENSOR_NAME, budget=budget)
    return _last_string(buf, [(start, end)], _TENSOR_NAME, budget=budget)


def _value_info(buf: Buffer, start: int, end: int, *, budget: Budget) -> ValueInfo:
    name = _last_string(buf, [(start, end)], _VALUE_NAME, budget=budget)
    kind, spans = _type(buf, _spans(buf, start, end, _VALUE_TYPE, budget=budget), budget=budget)
    if kind == "sequence":
        element, _ = _type(buf, _sub_spans(buf, spans, _ELEM_TYPE, budget=budget), budget=budget)
        return ValueInfo(name=name, kind="sequence of maps" if element == "map" else kind)
    if kind != "tensor":
        return ValueInfo(name=name, kind=kind)
    elem_type = 0
    shapes: list[tuple[int, int]] = []
    for start_, end_ in spans:
        for number, wire, a, b in fields(buf, start_, end_, budget=budget):
            if number == _ELEM_TYPE and wire == VARINT:
                elem_type = a
            elif number == _SHAPE and wire == LENGTH:
                shapes.append((a, b))
    dims = None
    if shapes:
        dims = tuple(
            _dim(buf, a, b, budget=budget) for a, b in _sub_spans(buf, shapes, _DIM, budget=budget)
        )
    return ValueInfo(name=name, kind=kind, elem_type=elem_type, dims=dims)


def _type(
    buf: Buffer, spans: list[tuple[int, int]], *, budget: Budget
) -> tuple[str, list[tuple[int, int]]]:
    """The TypeProto's kind (its last oneof member) and that member's occurrences."""
    member, found = 0, []
    for start, end in spans:
        for number, wire, a, b in fields(buf, start, end, budget=budget):
            if number not in _KINDS or wire != LENGTH:
                continue
            if number != member:
                member, found = number, []
            found.append((a, b))
    return _KINDS.get(member, "undeclared"), found


def _dim(buf: Buffer, start: int, end: int, *, budget: Budget) -> int | str | None:
    value: int | str | None = None
    for number, wire, a, b in fields(buf, start, end, budget=budget):
        if number == _DIM_VALUE and wire == VARINT:
            value = a if a < _MAX_DIM else None  # a negative int64: no size
        elif number == _DIM_PARAM and wire == LENGTH:
            value = _text(buf, a, b)
    return value


def _spans(
    buf: Buffer, start: int, end: int, wanted: int, *, budget: Budget
) -> list[tuple[int, int]]:
    return [
        (a, b)
        for number, wire, a, b in fields(buf, start, end, budget=budget)
        if number == wanted and wire == LENGTH
    ]


def _sub_spans(
    buf: Buffer, spans: list[tuple[int, int]], wanted: int, *, budget: Budget
) -> list[tuple[int, int]]:
    return [span for a, b in spans for span in _spans(buf, a, b, wanted, budget=budget)]


def _last_string(buf: Buffer, spans: list[tuple[int, int]], wanted: int, *, budget: Budget) -> str:
    found = _sub_spans(buf, spans, wanted, budget=budget)
    return _text(buf, *found[-1]) if found else ""


def _text(buf: Buffer, start: int, end: int) -> str:
    """A name as stored (UTF-8); longer than any real one is a WireError."""
    if end - start > _MAX_NAME_BYTES:
        raise WireError(f"a name of {end - start} bytes")
    return bytes(buf[start:end]).decode("utf-8", errors="replace")  # type: ignore[index]
