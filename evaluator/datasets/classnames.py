"""Class names: from a names file, from the source, or "0".."K-1"."""

from __future__ import annotations

from pathlib import Path

from evaluator.errors import DatasetError

# A names file sitting beside an IDX or npz source is picked up without being asked for.
DEFAULT_NAMES_FILE = "class_names.txt"


def read_names(path: Path) -> list[str]:
    """One name per line; blank lines (CIFAR's meta files end with some) are dropped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read class names: {exc}") from exc
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise DatasetError(f"{path}: no class names in the file")
    if len(set(names)) != len(names):
        raise DatasetError(f"{path}: class names repeat")
    return names


def names_beside(source: Path) -> Path | None:
    folder = source if source.is_dir() else source.parent
    candidate = folder / DEFAULT_NAMES_FILE
    return candidate if candidate.is_file() else None


def resolve_class_names(
    *,
    labels_max: int,
    fixed: int | None,
    from_source: list[str] | None,
    names_file: Path | None,
) -> list[str]:
    """The final class names, whose count is the number of classes.

    ``fixed`` is the count the format declares (folders, CIFAR variant): a names file must match
    it exactly. Where the count is inferred from labels (IDX, npz), the highest label is only a
    lower bound (a small subset may miss the last class), so the file must cover it.
    """
    if names_file is not None:
        names = read_names(names_file)
        if fixed is not None and len(names) != fixed:
            raise DatasetError(
                f"{names_file}: {len(names)} class names, the source has {fixed} classes"
            )
        if len(names) <= labels_max:
            raise DatasetError(
                f"{names_file}: {len(names)} class names, but the labels go up to {labels_max}"
            )
        return names
    if from_source is not None:
        return list(from_source)
    count = fixed if fixed is not None else labels_max + 1
    return [str(i) for i in range(count)]
