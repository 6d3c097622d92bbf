"""What a reader hands to the compiler, whatever the source format was."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluator.errors import DatasetError

# Words in file names that tell a test split from a training split (MNIST, CIFAR, EMNIST...).
SPLIT_WORDS = {"test": ("t10k", "test"), "train": ("train", "data_batch")}


@dataclass
class Source:
    """A labelled image set as read from disk, before any resizing.

    Exactly one of ``pixels`` (formats that store one array: IDX, CIFAR, npz) and ``files``
    (one file per image: ImageFolder) is set. ``num_classes`` is set where the format fixes it
    (ImageFolder's folders, CIFAR's 10 or 100) and ``None`` where it is inferred from labels.
    """

    fmt: str
    path: Path
    labels: np.ndarray  # int64 (N,)
    pixels: np.ndarray | None = None  # uint8 (N, C, h, w), C in (1, 3)
    files: list[Path] | None = None
    num_classes: int | None = None
    class_names: list[str] | None = None

    @property
    def n(self) -> int:
        return int(self.labels.shape[0])

    def item_name(self, index: int) -> str:
        """The file to blame in a message about one image."""
        if self.files is not None:
            return str(self.files[index])
        return f"{self.path} (image {index})"


def split_matches(name: str, split: str) -> bool:
    """Whether a file name looks like it belongs to ``split`` ("test" or "train")."""
    lowered = name.lower()
    return any(word in lowered for word in SPLIT_WORDS[split])


def pick_split_file(candidates: list[Path], *, split: str, what: str, where: Path) -> Path:
    """Choose the one file of ``split`` among ``candidates`` found in directory ``where``.

    A lone candidate that does not look like the other split is taken as is; anything
    ambiguous is refused rather than guessed, since importing a training split as the hidden
    test set would be silent and costly.
    """
    if not candidates:
        raise DatasetError(f"{where}: no {what} found")
    matching = [p for p in candidates if split_matches(p.name, split)]
    if len(matching) == 1:
        return matching[0]
    other = "train" if split == "test" else "test"
    if not matching and len(candidates) == 1 and not split_matches(candidates[0].name, other):
        return candidates[0]
    names = ", ".join(sorted(p.name for p in candidates))
    raise DatasetError(
        f"{where}: cannot tell which {what} holds the {split} split among: {names}; "
        "pass the file itself as the source"
    )


def checked_labels(raw: np.ndarray, *, path: Path) -> np.ndarray:
    """Integer labels as int64 (N,), refusing floats, negatives and wrong shapes."""
    if raw.ndim != 1:
        raise DatasetError(f"{path}: labels must be one-dimensional, got shape {raw.shape}")
    if not np.issubdtype(raw.dtype, np.integer):
        raise DatasetError(f"{path}: labels must be integers, got dtype {raw.dtype}")
    labels = raw.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise DatasetError(f"{path}: labels must be non-negative, found {labels.min()}")
    return labels


def require_same_count(*, images: int, labels: int, images_path: Path, labels_path: Path) -> None:
    if images != labels:
        where = str(images_path) if images_path == labels_path else f"{images_path}, {labels_path}"
        raise DatasetError(f"{where}: {images} images but {labels} labels")


def require_pixel_array(pixels: np.ndarray, *, path: Path, channels_last: bool) -> np.ndarray:
    """uint8 (N, h, w) or (N, h, w, C) / (N, C, h, w) with C in 1 or 3, as an (N, C, h, w) view."""
    if pixels.dtype != np.uint8:
        raise DatasetError(f"{path}: images must be uint8, got dtype {pixels.dtype}")
    if pixels.ndim == 3:
        pixels = pixels[:, None, :, :]
    elif pixels.ndim != 4:
        raise DatasetError(
            f"{path}: images must have shape (N, H, W) or (N, H, W, C), got {pixels.shape}"
        )
    elif channels_last:
        pixels = pixels.transpose(0, 3, 1, 2)
    if pixels.shape[1] not in (1, 3):
        raise DatasetError(f"{path}: images must have 1 or 3 channels, got {pixels.shape[1]}")
    if min(pixels.shape[2:]) < 1:
        raise DatasetError(f"{path}: images have an empty side: {pixels.shape}")
    return pixels
