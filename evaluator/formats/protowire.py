"""Protocol buffers' wire format, read field by field from a buffer (a memory map).

The trusted parent reads untrusted ONNX files with this instead of parsing them whole: it looks
at tags and lengths only, skips every payload it does not need without copying it, and stops
when a field budget runs out, so a crafted file costs a bounded amount of work and memory.
See https://protobuf.dev/programming-guides/encoding/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
_MAX_VARINT_BYTES = 10


class Buffer(Protocol):
    def __getitem__(self, index: int) -> int: ...


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


class OverBudget(WireError):
    """Reading stopped: the message has more fields than the caller was willing to visit."""


class Budget:
    """How many more fields a walk may visit, shared by every nested message it reads."""

    def __init__(self, fields: int) -> None:
        self.fields = fields

    def spend(self) -> None:
        self.fields -= 1
        if self.fields < 0:
            raise OverBudget("too many fields to read")


def varint(buf: Buffer, pos: int, end: int) -> tuple[int, int]:
    """The unsigned varint at ``pos`` and the position after it."""
    result = shift = 0
    for _ in range(_MAX_VARINT_BYTES):
        if pos >= end:
            raise WireError("a varint runs past the end of its message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
    raise WireError("a varint longer than ten bytes")


def fields(
    buf: Buffer, start: int, end: int, *, budget: Budget
) -> Iterator[tuple[int, int, int, int]]:
    """Each field of the message in ``buf[start:end]`` as (number, wire type, a, b).

    A varint gives (value, 0); a length-delimited field its payload's span (start, end); a
    fixed-width field its payload's span too. Groups (wire types 3 and 4, long deprecated and
    unused by ONNX) are refused.
    """
    pos = start
    while pos < end:
        budget.spend()
        tag, pos = varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == VARINT:
            value, pos = varint(buf, pos, end)
            yield number, wire, value, 0
            continue
        if wire == LENGTH:
            size, pos = varint(buf, pos, end)
            stop = pos + size
        elif wire == FIXED64:
            stop = pos + 8
        elif wire == FIXED32:
            stop = pos + 4
        else:
            raise WireError(f"wire type {wire} (field {number})")
        if stop > end:
            raise WireError(f"field {number} runs past the end of its message")
        yield number, wire, pos, stop
        pos = stop


def packed_varints(buf: Buffer, start: int, end: int, *, budget: Budget) -> Iterator[int]:
    """The varints of a packed repeated field's payload."""
    pos = start
    while pos < end:
        budget.spend()
        value, pos = varint(buf, pos, end)
        yield value
