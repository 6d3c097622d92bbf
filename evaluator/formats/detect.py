"""Tell which accepted format a model file is in, from its bytes alone.

Runs in the trusted parent (the web request that takes an upload, the worker's parent), so
it never unpickles, never imports model code and never follows external references, and its
work is bounded whatever the file: it reads a capped safetensors header, lists the entry names
of a zip whose directory is of a reasonable size, and walks an ONNX file's top-level protobuf
fields (``onnx_wire.outline``) without parsing the graph. The full ONNX check runs in the
sandbox child, before the model is loaded (``onnx_check``). The file extension is ignored;
participants rename files, and a ``.onnx`` that is really a pickle must still be refused.
"""

from __future__ import annotations

import json
import math
import mmap
import struct
from pathlib import Path

from evaluator.errors import PickleRefused, UnsupportedFormat
from evaluator.formats import archives, onnx_wire
from evaluator.formats.base import ModelFormat
from evaluator.formats.protowire import WireError

ACCEPTED = (
    "ONNX (.onnx, weights inside the file), "
    "safetensors weights with an architecture name (--arch), "
    "torch.export archives (.pt2, from torch.export.save) "
    "and TorchScript archives (torch.jit.script(model).save(...))"
)

HOW_TO_EXPORT = (
    "Export the model instead, for example: "
    'torch.onnx.export(model, example, "model.onnx"); or '
    'torch.export.save(torch.export.export(model, (example,)), "model.pt2"); or '
    'safetensors.torch.save_file(model.state_dict(), "model.safetensors") '
    "and give the architecture name (--arch)."
)

# The format allows a 100 MB header. A real one is kilobytes (a few hundred bytes a tensor),
# and a JSON object of 100 MB costs gigabytes of Python objects to parse: more is refused.
SAFETENSORS_FORMAT_MAX_HEADER = 100 * 1024 * 1024
SAFETENSORS_MAX_HEADER = 8 * 1024 * 1024
_SAFETENSORS_DTYPES = frozenset(
    {"BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"}
    | {"F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64", "U1", "I1", "I4"}
)
# Field tags a serialised onnx.ModelProto can start with (fields 1..8, 14, 20, 25, 26).
_ONNX_FIRST_BYTES = frozenset(
    {0x08, 0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72, 0xA2, 0xCA, 0xD2}
)
# Opcodes a protocol 0/1 pickle usually starts with: MARK, GLOBAL, EMPTY_DICT/LIST, INT, LONG...
_OLD_PICKLE_FIRST_BYTES = frozenset(b"(c}]ILFSVNK")


def detect_format(path: Path) -> ModelFormat:
    """Return the model's format, or raise UnsupportedFormat / PickleRefused saying why not."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(16)
            f.seek(max(size - 1, 0))
            last = f.read(1)
    except OSError as exc:
        raise UnsupportedFormat(
            f"{path.name}: cannot read the model file ({exc.strerror})."
        ) from exc
    if size == 0:
        raise UnsupportedFormat(f"{path.name}: the model file is empty. Accepted: {ACCEPTED}.")
    if _looks_like_safetensors(head, size):
        _read_safetensors_header(path)
        return ModelFormat.SAFETENSORS
    if head.startswith(b"PK\x03\x04"):
        return _detect_zip(path)
    if _looks_like_pickle(head, last):
        raise PickleRefused(
            f"{path.name} is a Python pickle (a torch.save file); pickles can run arbitrary code "
            f"when loaded, so they are refused without being opened. {HOW_TO_EXPORT}"
        )
    if head[0] in _ONNX_FIRST_BYTES:
        _check_onnx_outline(path, size)
        return ModelFormat.ONNX
    raise UnsupportedFormat(f"{path.name} is not a model file in an accepted format: {ACCEPTED}.")


def safetensors_param_count(path: Path) -> int:
    """Number of values stored in a safetensors file, read from its header alone."""
    header = _read_safetensors_header(Path(path))
    return sum(
        math.prod(entry["shape"]) for name, entry in header.items() if name != "__metadata__"
    )


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n <= min(size - 8, SAFETENSORS_FORMAT_MAX_HEADER) and head[8:9] == b"{"


def _read_safetensors_header(path: Path) -> dict:
    """Parse and validate the JSON header; every tensor must lie inside the file."""
    size = path.stat().st_size
    with path.open("rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise UnsupportedFormat(f"{path.name}: not a safetensors file (too short).")
        (n,) = struct.unpack("<Q", prefix)
        if not 2 <= n <= size - 8:
            raise UnsupportedFormat(f"{path.name}: safetensors header length {n} does not fit.")
        if n > SAFETENSORS_MAX_HEADER:
            raise UnsupportedFormat(
                f"{path.name}: a safetensors header of {n} bytes; at most "
                f"{SAFETENSORS_MAX_HEADER} are accepted (a few hundred bytes a tensor)."
            )
        raw = f.read(n)
    bad = f"{path.name}: the safetensors header is damaged"
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnsupportedFormat(f"{bad} (not valid JSON).") from exc
    if not isinstance(header, dict):
        raise UnsupportedFormat(f"{bad} (not a JSON object).")
    data_size = size - 8 - n
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not _valid_tensor_entry(entry, data_size):
            raise UnsupportedFormat(f"{bad} (entry {name[:80]!r} is invalid or out of bounds).")
    return header


def _valid_tensor_entry(entry: object, data_size: int) -> bool:
    if not isinstance(entry, dict) or entry.get("dtype") not in _SAFETENSORS_DTYPES:
        return False
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        return False
    if not (isinstance(offsets, list) and len(offsets) == 2):
        return False
    start, end = offsets
    return isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= data_size


def _detect_zip(path: Path) -> ModelFormat:
    """Classify a zip archive by its entry names; no entry is ever read."""
    with archives.open_zip(path) as archive:
        names = archive.namelist()
    parts = [name.split("/") for name in names]
    inner = {"/".join(p[1:]) for p in parts if len(p) > 1}
    if "archive_format" in inner and any(n.startswith("models/") for n in inner):
        return ModelFormat.TORCH_EXPORT
    if "constants.pkl" in inner and any(n.startswith("code/") for n in inner):
        return ModelFormat.TORCHSCRIPT
    if "data.pkl" in inner:
        raise PickleRefused(
            f"{path.name} is a torch.save archive, which holds a Python pickle; pickles can run "
            f"arbitrary code when loaded, so they are refused without being opened. "
            f"{HOW_TO_EXPORT}"
        )
    raise UnsupportedFormat(
        f"{path.name} is a zip archive but not a TorchScript or torch.export one. "
        f"Accepted: {ACCEPTED}."
    )


def _looks_like_pickle(head: bytes, last: bytes) -> bool:
    if head[0] == 0x80 and len(head) > 1:
        return 2 <= head[1] <= 5
    return head[0] in _OLD_PICKLE_FIRST_BYTES and last == b"."


def _check_onnx_outline(path: Path, size: int) -> None:
    """A ModelProto with an IR version and a graph, from its top-level fields alone."""
    try:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            found = onnx_wire.outline(buf, size)
    except (WireError, OSError, ValueError) as exc:
        raise UnsupportedFormat(
            f"{path.name} is not a model file in an accepted format: {ACCEPTED}."
        ) from exc
    if found.ir_version <= 0 or not found.has_graph:
        raise UnsupportedFormat(
            f"{path.name} is not a valid ONNX model (no graph with inputs, outputs and nodes). "
            f"Accepted: {ACCEPTED}."
        )
