"""How many values a model file stores, counted by the trusted parent from data alone.

The sandboxed child reports a parameter count too, but the child runs the participant's code:
a model can claim one parameter. This reads what the file itself declares, without running or
unpickling anything and without building the model: ONNX tensor dimensions from the protobuf's
wire format, the safetensors header, the storages a TorchScript pickle names (by walking its
opcodes), the tensor sizes in a torch.export archive's weights configuration (JSON).

A value shared by two names (tied weights) is stored once and counted once. Where a count
cannot be read as data (an unknown layout, opaque objects, a malformed or oversized file),
the answer is None and the caller says that only the model's own claim exists.
"""

from __future__ import annotations

import json
import math
import mmap
import re
import zipfile
from pathlib import Path

from evaluator.errors import EvaluatorError
from evaluator.formats import archives, onnx_wire
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import safetensors_param_count
from evaluator.formats.pickle_storages import PickleWalkError, storage_numels
from evaluator.formats.protowire import WireError

MAX_PICKLE_BYTES = 32 * 1024 * 1024  # data.pkl of a TorchScript archive (tensors are apart)
MAX_CONFIG_BYTES = 32 * 1024 * 1024  # a torch.export weights or constants configuration
# No tensor format stores more than two values in a byte (4-bit types): a larger count is a
# declaration with nothing behind it, not a count of what the file holds.
VALUES_PER_BYTE = 2
_PT2_CONFIG = re.compile(r"data/(weights|constants)/(.+)_(weights|constants)_config\.json")
_TENSOR_CONSTANT = "tensor_"


def stored_values(*, path: Path, fmt: ModelFormat) -> int | None:
    """The number of values ``path`` stores (parameters and buffers), or None if unreadable."""
    path, fmt = Path(path), ModelFormat(fmt)
    try:
        if fmt is ModelFormat.ONNX:
            count = _onnx(path)
        elif fmt is ModelFormat.SAFETENSORS:
            count = safetensors_param_count(path)
        elif fmt is ModelFormat.TORCHSCRIPT:
            count = _torchscript(path)
        else:
            count = _torch_export(path)
    except (EvaluatorError, WireError, PickleWalkError, OSError, ValueError, zipfile.BadZipFile):
        return None
    if count is None or count > VALUES_PER_BYTE * path.stat().st_size:
        return None
    return count


def _onnx(path: Path) -> int:
    with path.open("rb") as f:
        size = path.stat().st_size
        if size == 0:
            raise WireError("empty file")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return onnx_wire.stored_values(buf, size)


def _torchscript(path: Path) -> int | None:
    """Elements of every distinct storage that data.pkl and constants.pkl name."""
    with archives.open_zip(path) as archive:
        root = archives.archive_root(archive.namelist())
        if root is None:
            return None
        total = 0
        for pickle_name, required in (("data.pkl", True), ("constants.pkl", False)):
            name = f"{root}/{pickle_name}"
            if name not in archive.NameToInfo:
                if required:
                    return None
                continue
            data = archives.read_entry(archive, name, limit=MAX_PICKLE_BYTES)
            total += sum(storage_numels(data).values())
        return total


def _torch_export(path: Path) -> int | None:
    """Elements the weights and tensor constants span, from each model's JSON configuration."""
    with archives.open_zip(path) as archive:
        names = archive.namelist()
        root = archives.archive_root(names)
        if root is None:
            return None
        configs = [n for n in names if _PT2_CONFIG.fullmatch(n.removeprefix(f"{root}/"))]
        if not any("/data/weights/" in n for n in configs):
            return None  # a legacy archive (pickled weights file) or no weights at all
        total = 0
        for name in configs:
            raw = archives.read_entry(archive, name, limit=MAX_CONFIG_BYTES)
            count = _payload_values(json.loads(raw.decode("utf-8")))
            if count is None:
                return None
            total += count
        return total


def _payload_values(config: object) -> int | None:
    """Sum over the payload files of the extent their entries address; entries that share a
    file (tied weights) count once. None for opaque objects or symbolic sizes."""
    entries = config.get("config") if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        return None
    extents: dict[str, int] = {}
    for entry in entries.values():
        if not isinstance(entry, dict) or not isinstance(entry.get("path_name"), str):
            return None
        path_name = entry["path_name"]
        if not path_name.startswith(("weight_", _TENSOR_CONSTANT)):
            return None  # a script object or an opaque pickled value: no size to read
        extent = _extent(entry.get("tensor_meta"))
        if extent is None:
            return None
        extents[path_name] = max(extent, extents.get(path_name, 0))
    return sum(extents.values())


def _extent(meta: object) -> int | None:
    """How many elements of its storage a tensor reaches: offset + last index + 1."""
    if not isinstance(meta, dict):
        return None
    sizes = _ints(meta.get("sizes"))
    strides = _ints(meta.get("strides"))
    offset = _ints([meta.get("storage_offset")])
    if sizes is None or strides is None or offset is None or len(sizes) != len(strides):
        return None
    if any(s < 0 for s in sizes + strides + offset):
        return None
    if math.prod(sizes) == 0:
        return 0
    reach = sum((size - 1) * stride for size, stride in zip(sizes, strides, strict=True))
    return offset[0] + reach + 1


def _ints(values: object) -> list[int] | None:
    """[{"as_int": n}, ...] as [n, ...]; None for symbolic sizes or anything else."""
    if not isinstance(values, list):
        return None
    out = []
    for value in values:
        number = value.get("as_int") if isinstance(value, dict) else None
        if type(number) is not int:
            return None
        out.append(number)
    return out
