"""detect_upload: the importer format and source for uploaded files, folders and archives."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from evaluator.datasets import import_dataset, open_dataset
from evaluator.datasets.archive import ArchiveError
from evaluator.datasets.uploads import UploadSource, detect_upload
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec
from tests.evaluator.test_datasets_sources import (
    random_images,
    write_cifar,
    write_idx_pair,
    write_imagefolder,
)

RGB16 = InputSpec(channels=3, height=16, width=16)
JUNK = {"__MACOSX/flowers/cat/._img000.png": b"\x00\x05", "flowers/.DS_Store": b"\x00"}


def zip_folder(folder: Path, archive: Path, *, junk: dict[str, bytes] | None = None) -> Path:
    """Every file under ``folder``, named from ``folder``'s own name down (as Finder zips it)."""
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            zf.write(path, path.relative_to(folder.parent).as_posix())
        for name, data in (junk or {}).items():
            zf.writestr(name, data)
    return archive


def tar_folder(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def flowers(root: Path) -> Path:
    """Three classes, PNG and JPEG, of different sizes: a small real ImageFolder tree."""
    tree = root / "flowers"
    write_imagefolder(
        tree, {"cat": list(random_images(3, 20, 24, 3)), "eel": [random_images(1, 9, 9)[0]]}
    )
    write_imagefolder(tree, {"dog": list(random_images(2, 30, 18, 3, seed=1))}, ext=".jpg")
    return tree


def detect(tmp_path: Path, upload: Path, **caps: int) -> UploadSource:
    return detect_upload(upload=upload, unpack_dir=tmp_path / "unpacked", **caps)


def refused(tmp_path: Path, upload: Path, *patterns: str) -> str:
    with pytest.raises(DatasetError) as caught:
        detect(tmp_path, upload)
    message = str(caught.value)
    for pattern in patterns:
        assert pattern in message, message
    assert not (tmp_path / "unpacked").exists()
    return message


def fingerprint(tmp_path: Path, fmt: str, source: Path, name: str) -> str:
    report = import_dataset(
        fmt=fmt, source=source, out=tmp_path / name, spec=RGB16, progress=False, workers=1
    )
    return report.fingerprint


# --- ImageFolder -------------------------------------------------------------------------------


def test_zipped_class_folders_import_like_the_folder_itself(tmp_path: Path) -> None:
    tree = flowers(tmp_path / "src")
    archive = zip_folder(tree, tmp_path / "upload.zip", junk=JUNK)
    found = detect(tmp_path, archive)
    assert (found.fmt, found.source) == ("imagefolder", tmp_path / "unpacked" / "flowers")
    assert found.unpacked == tmp_path / "unpacked"
    assert found.found == (
        "upload.zip (zip, 6 files): ImageFolder tree in flowers/: 3 class folders (cat, dog, eel), "
        "6 images"
    )
    direct = fingerprint(tmp_path, "imagefolder", tree, "direct")
    assert fingerprint(tmp_path, found.fmt, found.source, "uploaded") == direct
    assert open_dataset(tmp_path / "uploaded").class_names == ["cat", "dog", "eel"]


def test_tar_in_an_upload_folder(tmp_path: Path) -> None:
    tree = flowers(tmp_path / "src")
    (tmp_path / "upload").mkdir()
    tar_folder(tree, tmp_path / "upload" / "flowers.tgz")
    found = detect(tmp_path, tmp_path / "upload")
    assert (found.fmt, found.source.name) == ("imagefolder", "flowers")
    direct = fingerprint(tmp_path, "imagefolder", tree, "direct")
    assert fingerprint(tmp_path, found.fmt, found.source, "uploaded") == direct


def test_a_plain_folder_upload_is_read_in_place(tmp_path: Path) -> None:
    tree = flowers(tmp_path)
    found = detect(tmp_path, tree)
    assert (found.fmt, found.source, found.unpacked) == ("imagefolder", tree, None)
    assert found.found == "ImageFolder tree: 3 class folders (cat, dog, eel), 6 images"
    assert not (tmp_path / "unpacked").exists()


def test_split_folders_are_refused_not_read_as_classes(tmp_path: Path) -> None:
    for split in ("train", "test"):
        write_imagefolder(tmp_path / "set" / split, {"cat": [random_images(1, 8, 8)[0]]})
    archive = zip_folder(tmp_path / "set", tmp_path / "set.zip")
    refused(
        tmp_path, archive, "set.zip: set/: holds split folders (test, train)", "test split alone"
    )


def test_images_without_class_folders(tmp_path: Path) -> None:
    write_imagefolder(tmp_path / "flat", {"pics": list(random_images(2, 8, 8))})
    refused(
        tmp_path, zip_folder(tmp_path / "flat" / "pics", tmp_path / "one.zip"), "pics/: the only"
    )
    with zipfile.ZipFile(tmp_path / "loose.zip", "w") as zf:
        for path in (tmp_path / "flat" / "pics").iterdir():
            zf.write(path, path.name)
    refused(tmp_path, tmp_path / "loose.zip", "images but no class folders")


def test_a_folder_without_images_is_no_class(tmp_path: Path) -> None:
    tree = flowers(tmp_path / "src")
    (tree / "notes").mkdir()
    (tree / "notes" / "readme.txt").write_text("about the set")
    refused(tmp_path, zip_folder(tree, tmp_path / "f.zip"), "folders without images: notes")


# --- IDX, CIFAR, npz ---------------------------------------------------------------------------


def test_idx_files_in_a_folder_and_in_an_archive(tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    write_idx_pair(upload, random_images(12, 28, 28), np.arange(12, dtype=np.uint8) % 10)
    found = detect(tmp_path, upload)
    assert (found.fmt, found.source) == ("idx", upload / "t10k-images-idx3-ubyte.gz")
    assert found.found == (
        "IDX images t10k-images-idx3-ubyte.gz with labels t10k-labels-idx1-ubyte.gz"
    )
    write_idx_pair(upload, random_images(5, 28, 28), np.arange(5, dtype=np.uint8), prefix="train")
    found = detect(tmp_path, zip_folder(upload, tmp_path / "mnist.zip"))
    assert found.source == tmp_path / "unpacked" / "upload" / "t10k-images-idx3-ubyte.gz"
    assert "the test split among" in found.found
    report = import_dataset(
        fmt=found.fmt,
        source=found.source,
        out=tmp_path / "set",
        spec=InputSpec(1, 28, 28),
        progress=False,
        workers=1,
    )
    assert report.n_images == 12


def test_idx_without_its_partner(tmp_path: Path) -> None:
    images = write_idx_pair(tmp_path / "up", random_images(3, 8, 8), np.arange(3, dtype=np.uint8))
    labels = images.with_name("t10k-labels-idx1-ubyte.gz")
    labels.rename(tmp_path / labels.name)
    refused(tmp_path, images, "no matching labels file")
    refused(tmp_path, tmp_path / labels.name, "an IDX labels file alone")


def test_cifar_binary_tarball(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    write_cifar(folder / "data_batch_1.bin", random_images(4, 3, 32, 32), np.arange(4) % 10)
    write_cifar(folder / "test_batch.bin", random_images(6, 3, 32, 32), np.arange(6) % 10)
    (folder / "batches.meta.txt").write_text("\n".join(f"c{i}" for i in range(10)) + "\n\n")
    found = detect(tmp_path, tar_folder(folder, tmp_path / "cifar-10-binary.tar.gz"))
    assert (found.fmt, found.source.name) == ("cifar-bin", "test_batch.bin")
    report = import_dataset(
        fmt=found.fmt,
        source=found.source,
        out=tmp_path / "set",
        spec=InputSpec(3, 32, 32),
        progress=False,
        workers=1,
    )
    assert (report.n_images, report.num_classes) == (6, 10)
    assert open_dataset(tmp_path / "set").class_names[:2] == ["c0", "c1"]


def test_cifar_python_pickles_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in ("data_batch_1", "test_batch", "batches.meta"):
        (folder / name).write_bytes(b"\x80\x02}q\x00.")  # a pickle's first bytes; never loaded
    archive = tar_folder(folder, tmp_path / "cifar-10-python.tar.gz")
    refused(tmp_path, archive, "python version", "binary version")


def test_npz_by_name_and_by_content(tmp_path: Path) -> None:
    np.savez(tmp_path / "test.npz", images=random_images(7, 28, 28), labels=np.arange(7))
    assert detect(tmp_path, tmp_path / "test.npz").fmt == "npz"
    (tmp_path / "test.npz").rename(tmp_path / "upload-1234")  # the web may save under any name
    found = detect(tmp_path, tmp_path / "upload-1234")
    assert (found.fmt, found.source, found.unpacked) == ("npz", tmp_path / "upload-1234", None)
    report = import_dataset(
        fmt=found.fmt,
        source=found.source,
        out=tmp_path / "set",
        spec=InputSpec(1, 28, 28),
        progress=False,
        workers=1,
    )
    assert report.n_images == 7


# --- refusals ----------------------------------------------------------------------------------


def test_unknown_content_lists_what_was_found_and_what_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    for name in ("scores.csv", "notes.txt"):
        (tmp_path / "data" / name).write_text("x")
    message = refused(tmp_path, zip_folder(tmp_path / "data", tmp_path / "data.zip"))
    assert "data.zip: no test set recognised; found data/notes.txt, data/scores.csv" in message
    assert "Accepted: a zip or tar of class folders" in message and "*-idx3-ubyte" in message


def test_more_than_one_kind_of_data(tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    write_idx_pair(upload, random_images(3, 8, 8), np.arange(3, dtype=np.uint8))
    np.savez(upload / "test.npz", images=random_images(3, 8, 8), labels=np.arange(3))
    refused(tmp_path, upload, "more than one kind of data", "upload one")


def test_an_archive_beside_other_files(tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    upload.mkdir()
    zip_folder(flowers(tmp_path / "src"), upload / "flowers.zip")
    (upload / "class_names.txt").write_text("a\nb\nc\n")
    refused(tmp_path, upload, "an archive (flowers.zip) beside other files")


def test_a_hostile_archive_is_refused_before_detection(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("flowers/cat/a.png", b"x")
        zf.writestr("../../escape.png", b"x")
    with pytest.raises(ArchiveError, match=r"'\.\./\.\./escape\.png'"):
        detect(tmp_path, archive)
    assert not (tmp_path / "unpacked").exists()
    half = tmp_path / "half.tar.gz"
    data = tar_folder(flowers(tmp_path / "src"), half).read_bytes()
    half.write_bytes(data[: len(data) // 2])
    refused(tmp_path, half, "the archive is damaged or truncated")
    with pytest.raises(ArchiveError, match=r"f\.zip: 9 entries .* over the limit of 2 entries"):
        detect(tmp_path, zip_folder(tmp_path / "src" / "flowers", tmp_path / "f.zip"), max_files=2)
