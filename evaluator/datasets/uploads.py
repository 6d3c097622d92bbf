"""Tell what a host uploaded: which importer format reads it, and from which file or folder.

The web side saves the upload (one file, or a folder of several) and asks here, so the format is
decided once, from what is inside, and never guessed from a form field or a file name alone.
An archive is unpacked first, within the caps of ``evaluator.datasets.archive``; its content is
then read like a folder. Anything unrecognised is refused with what was found and what is
accepted, so that the host knows what to upload instead.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from evaluator.datasets.archive import (
    MAX_BYTES,
    MAX_FILES,
    archive_kind,
    has_archive_suffix,
    is_junk,
    unpack_archive,
)
from evaluator.datasets.base import pick_split_file
from evaluator.datasets.cifar import find_batches
from evaluator.datasets.idx import find_images_file, labels_file_for
from evaluator.datasets.imagefolder import IMAGE_EXTENSIONS, class_files
from evaluator.errors import DatasetError

ACCEPTED = (
    "a zip or tar of class folders of images (one folder per class, the ImageFolder layout)",
    "IDX files (*-idx3-ubyte[.gz] images with their *-idx1-ubyte[.gz] labels)",
    "CIFAR-10/100 binary batches (*.bin)",
    "an .npz holding 'images' and 'labels' arrays",
)
# Folder names that make a tree of splits, not of classes: importing "train" as a class is silent.
SPLIT_FOLDERS = frozenset({"train", "training", "test", "testing", "val", "valid", "validation"})
# CIFAR's python version: pickles, which are never unpickled here.
CIFAR_PICKLES = frozenset(
    {"test_batch", "batches.meta", "meta", *(f"data_batch_{i}" for i in range(1, 6))}
)
LISTED = 8  # names a message shows before "and N more"


@dataclass(frozen=True)
class UploadSource:
    """What to pass to ``import_dataset``: ``fmt`` and ``source``, and what was seen."""

    fmt: str  # "imagefolder", "idx", "cifar-bin" or "npz" (evaluator.datasets.FORMATS)
    source: Path
    found: str  # in words, for the host's page: "ImageFolder tree flowers/: 5 class folders..."
    unpacked: Path | None = None  # the folder an archive was unpacked into; remove it when done


def names(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown + (f" and {len(items) - LISTED} more" if len(items) > LISTED else "")


def at(path: Path, base: Path) -> str:
    """Where in the upload a message is about: nothing for the upload itself."""
    return "" if path == base else f"{shown(path, base)}: "


def shown(path: Path, base: Path) -> str:
    """``path`` as the host knows it: relative to the upload, folders ending in '/'."""
    rel = path.relative_to(base).as_posix() if path != base else path.name
    return f"{rel}/" if path.is_dir() else rel


def is_npz(path: Path) -> bool:
    """An .npz by name, or a zip whose first entry is an .npy (numpy.savez's output)."""
    if path.suffix.lower() == ".npz":
        return True
    if is_image(path):  # a folder of images is not opened file by file
        return False
    with open(path, "rb") as f:
        head = f.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            return False
        first = f.read(int.from_bytes(head[26:28], "little"))
    return first.endswith(b".npy")


def listing(folder: Path) -> tuple[list[Path], list[Path]]:
    """(files, folders) directly in ``folder``, junk left out, sorted."""
    files, folders = [], []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if is_junk(entry.name):
            continue
        if entry.is_dir():
            folders.append(Path(entry.path))
        elif entry.is_file():
            files.append(Path(entry.path))
    return files, folders


def is_image(path: Path) -> bool:
    return path.name.lower().endswith(IMAGE_EXTENSIONS)


def data_files(files: list[Path]) -> dict[str, list[Path]]:
    """The files of each single-file format among ``files`` (formats with none left out)."""
    kinds = {
        "npz": [f for f in files if is_npz(f)],
        "idx": [f for f in files if "idx3" in f.name],
        "cifar-bin": [f for f in files if f.suffix == ".bin"],
    }
    return {fmt: found for fmt, found in kinds.items() if found}


def descend(root: Path) -> Path:
    """Down through lone wrapping folders ("flowers/" around the class folders) to the data."""
    while True:
        files, folders = listing(root)
        if data_files(files) or any(map(is_image, files)) or len(folders) != 1:
            return root
        if any(map(is_image, listing(folders[0])[0])):  # a lone class folder, refused later
            return root
        root = folders[0]


def single_file(path: Path, *, base: Path) -> UploadSource:
    """One data file: an .npz, a CIFAR batch, or an IDX images file with its labels beside it."""
    if is_npz(path):
        return UploadSource(fmt="npz", source=path, found=f"npz archive {shown(path, base)}")
    if path.suffix == ".bin":
        return UploadSource(
            fmt="cifar-bin", source=path, found=f"CIFAR binary batch {shown(path, base)}"
        )
    if "idx3" in path.name:
        labels = labels_file_for(path)
        found = f"IDX images {shown(path, base)} with labels {shown(labels, base)}"
        return UploadSource(fmt="idx", source=path, found=found)
    if "idx1" in path.name:
        raise DatasetError(
            f"{at(path, base)}an IDX labels file alone; upload the images file "
            "(*-idx3-ubyte[.gz]) with it"
        )
    raise unknown(base, [path], [])


def unknown(base: Path, files: list[Path], folders: list[Path]) -> DatasetError:
    """The refusal of an upload that holds no format read here: what it holds, what would do."""
    seen = [shown(p, base) for p in folders + files]
    what = f"found {names(seen)}" if seen else "found nothing"
    if {p.name for p in files} & CIFAR_PICKLES:
        return DatasetError(
            f"{what}: this is CIFAR's python version, made of pickles, which are "
            "never loaded here; upload the binary version (*.bin batches) instead"
        )
    return DatasetError(f"no test set recognised; {what}. Accepted: {'; '.join(ACCEPTED)}")


def image_folder(root: Path, folders: list[Path], *, base: Path, strays: int) -> UploadSource:
    """The ImageFolder reading of ``root``, refused where its folders are not classes."""
    splits = [f.name for f in folders if f.name.lower() in SPLIT_FOLDERS and listing(f)[1]]
    if splits:
        raise DatasetError(
            f"{at(root, base)}holds split folders ({names(splits)}), not class folders; "
            "upload the test split alone, its class folders at the top"
        )
    if len(folders) == 1:
        raise DatasetError(
            f"{shown(folders[0], base)}: the only folder of images; an ImageFolder upload holds "
            "one folder per class, at least two"
        )
    counts = {folder.name: len(class_files(folder)) for folder in folders}
    empty = [name for name, count in counts.items() if not count]
    if empty:
        raise DatasetError(
            f"{at(root, base)}folders without images: {names(empty)}; every folder is read "
            f"as a class, and a class needs {'/'.join(IMAGE_EXTENSIONS)} images"
        )
    found = (
        f"ImageFolder tree{f' in {shown(root, base)}' if root != base else ''}: "
        f"{len(counts)} class folders "
        f"({names(list(counts))}), {sum(counts.values())} images"
    )
    if strays:
        found += f" ({strays} images outside the class folders are not read)"
    return UploadSource(fmt="imagefolder", source=root, found=found)


def detect_source(*, path: Path, label: str | None = None) -> UploadSource:
    """What the file or folder ``path`` holds; archives are not opened here.

    Refusals start with ``label`` (default: the name of ``path``), the upload as the host knows it.
    """
    path = Path(path)
    try:
        return detect_in(path)
    except DatasetError as exc:
        raise DatasetError(f"{label or path.name}: {exc.message}", code=exc.code) from exc


def detect_in(path: Path) -> UploadSource:
    if path.is_file():
        return single_file(path, base=path)
    root = descend(path)
    files, folders = listing(root)
    kinds = data_files(files)
    classes = [f for f in folders if class_files(f)]
    if classes:
        kinds["imagefolder"] = classes
    if len(kinds) > 1:
        found = "; ".join(
            f"{fmt}: {names([shown(p, path) for p in ps])}" for fmt, ps in kinds.items()
        )
        raise DatasetError(
            f"{at(root, path)}holds more than one kind of data ({found}); upload one"
        )
    if "imagefolder" in kinds:
        return image_folder(root, folders, base=path, strays=sum(map(is_image, files)))
    if "npz" in kinds:
        chosen = pick_split_file(kinds["npz"], split="test", what="npz archive", where=root)
    elif "idx" in kinds:
        chosen = find_images_file(root, split="test")
    elif "cifar-bin" in kinds:
        chosen = find_batches(root, split="test")[0]
    elif any(map(is_image, files)):
        raise DatasetError(
            f"{at(root, path)}images but no class folders; put each class's images in a "
            "folder named after the class"
        )
    else:
        raise unknown(path, files, folders)
    detected = single_file(chosen, base=path)
    among = [p.name for ps in kinds.values() for p in ps]
    if len(among) > 1:
        detected = replace(
            detected, found=f"{detected.found} (the test split among {names(among)})"
        )
    return detected


def is_archive(path: Path) -> bool:
    """A zip or tar by content, or by name (a damaged one is then refused as such)."""
    return not is_npz(path) and (
        archive_kind(path=path) is not None or has_archive_suffix(path.name)
    )


def archive_in(upload: Path) -> Path | None:
    """The archive to unpack: the upload itself, or the one file of an uploaded folder."""
    if upload.is_file():
        return upload if is_archive(upload) else None
    files, folders = listing(upload)
    archives = [f for f in files if is_archive(f)]
    if not archives:
        return None
    if len(files) == 1 and not folders:
        return archives[0]
    raise DatasetError(
        f"{upload.name}: an archive ({names([a.name for a in archives])}) beside other files; "
        "upload either one archive or the data files themselves"
    )


def detect_upload(
    *, upload: Path, unpack_dir: Path, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES
) -> UploadSource:
    """The format and source that ``import_dataset`` should read for an uploaded file or folder.

    A zip or tar is unpacked into the new folder ``unpack_dir`` (``UploadSource.unpacked``;
    the caller removes it after importing); if its content is then refused, it is removed here.
    Raises DatasetError (ArchiveError for the archive itself) naming what is wrong.
    """
    upload = Path(upload)
    if not upload.exists():
        raise DatasetError(f"{upload}: no such file or folder")
    archive = archive_in(upload)
    if archive is None:
        return detect_source(path=upload)
    unpacked = unpack_archive(
        archive=archive, target=unpack_dir, max_files=max_files, max_bytes=max_bytes
    )
    try:
        detected = detect_source(path=unpacked.root, label=archive.name)
    except BaseException:
        shutil.rmtree(unpacked.root, ignore_errors=True)
        raise
    found = f"{archive.name} ({unpacked.kind}, {unpacked.files} files): {detected.found}"
    return replace(detected, found=found, unpacked=unpacked.root)
