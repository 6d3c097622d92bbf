"""Read and write a compiled set in the on-disk layout of ``evaluator.layout``.

``open_images`` is what the sandboxed side may call: it touches ``images/`` only. ``open_dataset``
is the trusted side's: images, labels and split, each checked against the metadata so that a
damaged set fails loudly, naming the file, instead of scoring wrongly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluator import layout
from evaluator.datasets.fingerprint import fingerprint
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec

IMAGES_META_KEYS = ("n", "num_classes", "class_names", "spec", "fingerprint")


@dataclass
class CompiledDataset:
    root: Path
    spec: InputSpec
    n: int
    num_classes: int
    class_names: list[str]
    fingerprint: str
    images: np.ndarray  # uint8 (N, C, H, W), memory-mapped read-only
    labels: np.ndarray  # int64 (N,)
    public_mask: np.ndarray  # bool (N,)
    labels_meta: dict = field(default_factory=dict)  # public fraction, seed, import report


def write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: missing") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise DatasetError(f"{path}: expected a JSON object")
    return value


def load_array(path: Path, *, mmap: bool = False) -> np.ndarray:
    """np.load without pickle; every failure becomes a DatasetError naming the file."""
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: missing") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable .npy array: {exc}") from exc


def check_array(path: Path, array: np.ndarray, *, dtype: type, shape: tuple[int, ...]) -> None:
    if array.dtype != dtype:
        raise DatasetError(f"{path}: dtype {array.dtype}, expected {np.dtype(dtype)}")
    if array.shape != shape:
        raise DatasetError(f"{path}: shape {array.shape}, expected {shape}")


def parse_images_meta(path: Path) -> tuple[dict, InputSpec]:
    meta = read_json(path)
    missing = [k for k in IMAGES_META_KEYS if k not in meta]
    if missing:
        raise DatasetError(f"{path}: missing key(s) {', '.join(missing)}")
    version = meta.get("format_version", layout.FORMAT_VERSION)
    if version not in layout.FORMAT_VERSIONS:
        readable = " and ".join(str(v) for v in layout.FORMAT_VERSIONS)
        raise DatasetError(f"{path}: format version {version}, this code reads {readable}")
    try:
        spec = InputSpec.from_dict(meta["spec"])
        n, num_classes = int(meta["n"]), int(meta["num_classes"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: invalid spec or counts: {exc}") from exc
    names = meta["class_names"]
    if not isinstance(names, list) or len(names) != num_classes:
        raise DatasetError(f"{path}: class_names must list num_classes={num_classes} names")
    if n < 1 or num_classes < 1:
        raise DatasetError(f"{path}: n and num_classes must be positive")
    return meta, spec


def open_images(images_dir: Path) -> tuple[np.ndarray, dict]:
    """The memory-mapped uint8 (N, C, H, W) images and their meta.json; labels are never read."""
    images_dir = Path(images_dir)
    meta_path = images_dir / layout.META_FILE
    meta, spec = parse_images_meta(meta_path)
    images_path = images_dir / layout.IMAGES_FILE
    images = load_array(images_path, mmap=True)
    shape = (int(meta["n"]), spec.channels, spec.height, spec.width)
    check_array(images_path, images, dtype=np.uint8, shape=shape)
    return images, meta


def open_dataset(root: Path, *, verify: bool = False) -> CompiledDataset:
    """A compiled set with its labels and split, validated; ``verify`` re-hashes the content."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no compiled data set here")
    images, meta = open_images(layout.images_dir(root))
    spec = InputSpec.from_dict(meta["spec"])
    n, num_classes = int(meta["n"]), int(meta["num_classes"])
    labels_dir = layout.labels_dir(root)
    labels_path = labels_dir / layout.LABELS_FILE
    labels = load_array(labels_path)
    check_array(labels_path, labels, dtype=np.int64, shape=(n,))
    if labels.min() < 0 or labels.max() >= num_classes:
        raise DatasetError(
            f"{labels_path}: labels span {labels.min()}..{labels.max()}, "
            f"outside 0..{num_classes - 1}"
        )
    split_path = labels_dir / layout.SPLIT_FILE
    split = load_array(split_path)
    check_array(split_path, split, dtype=np.bool_, shape=(n,))
    labels_meta = read_json(labels_dir / layout.META_FILE)
    dataset = CompiledDataset(
        root=root,
        spec=spec,
        n=n,
        num_classes=num_classes,
        class_names=[str(name) for name in meta["class_names"]],
        fingerprint=str(meta["fingerprint"]),
        images=images,
        labels=labels,
        public_mask=split,
        labels_meta=labels_meta,
    )
    if verify:
        actual = fingerprint(
            images=images,
            labels=labels,
            spec=spec,
            class_names=dataset.class_names,
            format_version=meta.get("format_version", layout.FORMAT_VERSION),
        )
        if actual != dataset.fingerprint:
            raise DatasetError(
                f"{root}: content does not match its fingerprint "
                f"({actual[:12]} != {dataset.fingerprint[:12]}): the files were changed"
            )
    return dataset


def image_slice(images: np.ndarray, *, start: int | None, stop: int | None) -> np.ndarray:
    """images[start:stop] as a memory map of its own, whose ``offset`` is the slice's.

    A plain slice of an np.memmap keeps the parent's ``offset``, and the GPU stager reads the
    file from ``offset`` with pread: it would read the set's first images instead.
    """
    if start is None and stop is None:
        return images
    lo, hi, _ = slice(start, stop).indices(len(images))
    if not 0 <= lo < hi:
        raise DatasetError(f"images [{start}, {stop}) are not a slice of the {len(images)}")
    if not isinstance(images, np.memmap) or images.filename is None:
        return images[lo:hi]
    per_image = int(np.prod(images.shape[1:])) * images.dtype.itemsize
    return np.memmap(
        images.filename,
        dtype=images.dtype,
        mode="r",
        offset=images.offset + lo * per_image,
        shape=(hi - lo, *images.shape[1:]),
    )
