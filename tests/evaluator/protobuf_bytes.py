"""Protobuf wire-format bytes written by hand, for ONNX files no exporter would produce."""

from __future__ import annotations

from pathlib import Path


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (a message, a string or a packed list)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def write_crafted_onnx(path: Path, *, nodes: int = 2_000_000) -> Path:
    """About 10 MB of nodes holding one op_type each: cheap to write, costly to parse whole
    (ModelProto: ir_version 8, an opset, a graph of ``nodes`` NodeProtos and a name)."""
    node = field(1, field(4, b"A"))
    graph = node * nodes + field(2, b"g")
    opset = field(8, varint(2 << 3) + varint(17))
    path.write_bytes(varint(1 << 3) + varint(8) + opset + field(7, graph))
    return path
