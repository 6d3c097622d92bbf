"""A SHA-256 fingerprint of a compiled set's content.

It covers the pixels, the labels and the canonical JSON of the spec, the class names and the
shape, so two sets with the same fingerprint score every model identically, and any changed
pixel, label, name or input setting gives a different one. It is computed chunk by chunk from
the memory-mapped file, so it costs one read of the images.

A set of format version 2 (some JPEGs draft-decoded: ``layout.DRAFT_FORMAT_VERSION``) has the
version in its JSON too; version 1's JSON is as it always was, so its fingerprints stand.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from evaluator import layout
from evaluator.spec import InputSpec

READ_BYTES = 64 * 2**20


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def fingerprint(
    *,
    images: np.ndarray,
    labels: np.ndarray,
    spec: InputSpec,
    class_names: list[str],
    format_version: int = layout.FORMAT_VERSION,
) -> str:
    digest = hashlib.sha256()
    header: dict = {"shape": list(images.shape), "spec": spec.to_dict(), "class_names": class_names}
    if format_version != layout.FORMAT_VERSION:
        header["format_version"] = format_version
    digest.update(canonical_json(header))
    rows = max(1, READ_BYTES // max(1, int(np.prod(images.shape[1:]))))
    for start in range(0, images.shape[0], rows):
        digest.update(np.ascontiguousarray(images[start : start + rows], dtype=np.uint8).data)
    digest.update(np.ascontiguousarray(labels, dtype="<i8").data)
    return digest.hexdigest()
