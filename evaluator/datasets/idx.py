"""IDX files (MNIST, Fashion-MNIST, EMNIST): ``*-idx3-ubyte[.gz]`` images + ``*-idx1-ubyte[.gz]``.

The format (http://yann.lecun.com/exdb/mnist/): two zero bytes, an element-type byte (0x08 for
unsigned bytes, the only type these sets use), the number of dimensions, one big-endian uint32
per dimension, then the data in row-major order. Gzip is recognised by content, not by name.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from evaluator.datasets.base import (
    Source,
    checked_labels,
    pick_split_file,
    require_pixel_array,
    require_same_count,
)
from evaluator.errors import DatasetError

GZIP_MAGIC = b"\x1f\x8b"
UBYTE = 0x08


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: corrupt or truncated gzip data: {exc}") from exc


def parse_idx(data: bytes, *, path: Path) -> np.ndarray:
    """The array an IDX file holds, after checking magic, dimensions and size."""
    if len(data) < 4:
        raise DatasetError(f"{path}: truncated IDX file: {len(data)} bytes, no header")
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(
            f"{path}: not an IDX file: bad magic {data[:4].hex()} (expected 0000 then type, ndim)"
        )
    dtype_code, ndim = data[2], data[3]
    if dtype_code != UBYTE:
        raise DatasetError(
            f"{path}: unsupported IDX element type 0x{dtype_code:02x}; only 0x08 (ubyte) is read"
        )
    if ndim < 1:
        raise DatasetError(f"{path}: IDX header declares no dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: truncated IDX header: {ndim} dimensions need {header} bytes")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64))
    body = len(data) - header
    if body < expected:
        raise DatasetError(
            f"{path}: truncated IDX file: header declares shape {dims} ({expected} bytes), "
            f"only {body} bytes follow"
        )
    if body > expected:
        raise DatasetError(
            f"{path}: {body - expected} unexpected bytes after the {dims} array the header declares"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def labels_file_for(images_path: Path) -> Path:
    """The labels file that sits beside an images file (``images``->``labels``, idx3->idx1)."""
    name = images_path.name.replace("images", "labels").replace("idx3", "idx1")
    stem = name.removesuffix(".gz")
    for candidate in (
        images_path.with_name(name),
        images_path.with_name(stem),
        images_path.with_name(stem + ".gz"),
    ):
        if candidate != images_path and candidate.is_file():
            return candidate
    raise DatasetError(
        f"{images_path}: no matching labels file (looked for {images_path.with_name(stem)}[.gz])"
    )


def find_images_file(source: Path, *, split: str) -> Path:
    """The images file: ``source`` itself, or the ``split`` one in directory ``source``."""
    if source.is_file():
        return source
    if not source.is_dir():
        raise DatasetError(f"{source}: no such file or directory")
    candidates = sorted(p for p in source.iterdir() if "idx3" in p.name and p.is_file())
    return pick_split_file(
        candidates, split=split, what="IDX images file (*-idx3-ubyte[.gz])", where=source
    )


def read_idx_source(source: Path, *, split: str = "test", limit: int | None = None) -> Source:
    images_path = find_images_file(source, split=split)
    labels_path = labels_file_for(images_path)
    images = parse_idx(read_bytes(images_path), path=images_path)
    raw_labels = parse_idx(read_bytes(labels_path), path=labels_path)
    if images.ndim not in (3, 4):
        raise DatasetError(
            f"{images_path}: IDX images must have 3 dimensions (N, H, W), got shape {images.shape}"
        )
    require_same_count(
        images=images.shape[0],
        labels=raw_labels.shape[0],
        images_path=images_path,
        labels_path=labels_path,
    )
    labels = checked_labels(raw_labels, path=labels_path)
    pixels = require_pixel_array(images, path=images_path, channels_last=True)
    if limit is not None:
        pixels, labels = pixels[:limit], labels[:limit]
    return Source(fmt="idx", path=images_path, labels=labels, pixels=pixels)
