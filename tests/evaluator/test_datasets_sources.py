"""Readers for each source format, on small data written by the tests, and their errors."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluator.datasets.sources import read_source
from evaluator.errors import DatasetError

# --- writers for small sources (shared with the other dataset tests) -------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx_pair(
    folder: Path, images: np.ndarray, labels: np.ndarray, *, prefix: str = "t10k", gz: bool = True
) -> Path:
    """MNIST-style files; returns the images file."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    images_path = folder / f"{prefix}-images-idx3-ubyte{suffix}"
    labels_path = folder / f"{prefix}-labels-idx1-ubyte{suffix}"
    for path, array in ((images_path, images), (labels_path, labels)):
        data = idx_bytes(array)
        path.write_bytes(gzip.compress(data) if gz else data)
    return images_path


def write_cifar(
    path: Path, images: np.ndarray, labels: np.ndarray, *, coarse: np.ndarray | None = None
) -> Path:
    """CIFAR-10 records, or CIFAR-100 ones when ``coarse`` labels are given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lead = [labels[:, None]] if coarse is None else [coarse[:, None], labels[:, None]]
    rows = np.concatenate([*lead, images.reshape(len(images), -1)], axis=1).astype(np.uint8)
    path.write_bytes(rows.tobytes())
    return path


def write_imagefolder(root: Path, classes: dict[str, list[np.ndarray]], ext: str = ".png") -> Path:
    """One folder per class; HxW arrays are saved grey, HxWx3 as RGB."""
    for name, images in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(images):
            Image.fromarray(image).save(root / name / f"img{i:03d}{ext}")
    return root


def random_images(n: int, *shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


# --- IDX ---------------------------------------------------------------------------------------


def test_idx_directory_prefers_test_files(tmp_path: Path) -> None:
    images, labels = random_images(12, 28, 28), np.arange(12, dtype=np.uint8) % 10
    write_idx_pair(tmp_path, images, labels)
    write_idx_pair(tmp_path, random_images(5, 28, 28, seed=1), labels[:5], prefix="train")
    found = read_source("idx", tmp_path)
    assert found.path.name == "t10k-images-idx3-ubyte.gz"
    assert found.pixels.shape == (12, 1, 28, 28)
    np.testing.assert_array_equal(found.pixels[:, 0], images)
    np.testing.assert_array_equal(found.labels, labels.astype(np.int64))
    assert found.labels.dtype == np.int64
    assert read_source("idx", tmp_path, split="train").n == 5


def test_idx_images_file_uncompressed_with_limit(tmp_path: Path) -> None:
    images, labels = random_images(8, 5, 7), np.arange(8, dtype=np.uint8)
    path = write_idx_pair(tmp_path, images, labels, gz=False)
    found = read_source("idx", path, limit=3)
    np.testing.assert_array_equal(found.pixels[:, 0], images[:3])
    assert found.n == 3


def test_idx_bad_magic_names_file(tmp_path: Path) -> None:
    path = write_idx_pair(tmp_path, random_images(4, 4, 4), np.zeros(4, np.uint8), gz=False)
    path.write_bytes(b"\x12\x34" + path.read_bytes()[2:])
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte: not an IDX file: bad magic"):
        read_source("idx", path)


def test_idx_wrong_element_type(tmp_path: Path) -> None:
    path = write_idx_pair(tmp_path, random_images(4, 4, 4), np.zeros(4, np.uint8), gz=False)
    data = bytearray(path.read_bytes())
    data[2] = 0x0D  # float32
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=r"images-idx3-ubyte: unsupported IDX element type 0x0d"):
        read_source("idx", path)


def test_idx_truncated_names_file(tmp_path: Path) -> None:
    path = write_idx_pair(tmp_path, random_images(4, 4, 4), np.zeros(4, np.uint8))
    data = idx_bytes(random_images(4, 4, 4))[:-10]
    path.write_bytes(gzip.compress(data))
    with pytest.raises(DatasetError, match=r"idx3-ubyte\.gz: truncated IDX file.*54 bytes follow"):
        read_source("idx", tmp_path)


def test_idx_truncated_gzip(tmp_path: Path) -> None:
    path = write_idx_pair(tmp_path, random_images(50, 8, 8), np.zeros(50, np.uint8))
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(DatasetError, match=r"idx3-ubyte\.gz: corrupt or truncated gzip"):
        read_source("idx", tmp_path)


def test_idx_count_mismatch_names_both_files(tmp_path: Path) -> None:
    write_idx_pair(tmp_path, random_images(6, 4, 4), np.zeros(5, np.uint8))
    with pytest.raises(
        DatasetError, match=r"images-idx3-ubyte\.gz, .*labels-idx1-ubyte\.gz: 6 images but 5 labels"
    ):
        read_source("idx", tmp_path)


def test_idx_missing_labels_file(tmp_path: Path) -> None:
    path = write_idx_pair(tmp_path, random_images(3, 4, 4), np.zeros(3, np.uint8))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match=rf"{path.name}: no matching labels file"):
        read_source("idx", tmp_path)


def test_idx_directory_without_idx_files(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(DatasetError, match=r"no IDX images file"):
        read_source("idx", tmp_path)


def test_idx_ambiguous_directory_is_refused(tmp_path: Path) -> None:
    write_idx_pair(tmp_path, random_images(3, 4, 4), np.zeros(3, np.uint8), prefix="a")
    write_idx_pair(tmp_path, random_images(3, 4, 4), np.zeros(3, np.uint8), prefix="b")
    with pytest.raises(DatasetError, match=r"cannot tell which .* test split"):
        read_source("idx", tmp_path)


def test_unknown_format_and_missing_source(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"unknown dataset format 'tfrecord'"):
        read_source("tfrecord", tmp_path)
    with pytest.raises(DatasetError, match=r"nowhere: no such file"):
        read_source("idx", tmp_path / "nowhere")


# --- CIFAR -------------------------------------------------------------------------------------


def test_cifar10_batch(tmp_path: Path) -> None:
    images, labels = random_images(5, 3, 32, 32), np.array([0, 9, 3, 3, 1], np.uint8)
    path = write_cifar(tmp_path / "test_batch.bin", images, labels)
    found = read_source("cifar-bin", path)
    np.testing.assert_array_equal(found.pixels, images)
    np.testing.assert_array_equal(found.labels, labels)
    assert found.num_classes == 10 and found.class_names is None


def test_cifar10_directory_with_meta_names(tmp_path: Path) -> None:
    names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    write_cifar(
        tmp_path / "test_batch.bin", random_images(4, 3, 32, 32), np.arange(4, dtype=np.uint8)
    )
    write_cifar(tmp_path / "data_batch_1.bin", random_images(2, 3, 32, 32), np.zeros(2, np.uint8))
    (tmp_path / "batches.meta.txt").write_text("\n".join(names) + "\n\n")
    found = read_source("cifar-bin", tmp_path)
    assert found.n == 4 and found.class_names == names
    assert read_source("cifar-bin", tmp_path, split="train").n == 2


def test_cifar100_uses_fine_labels(tmp_path: Path) -> None:
    images = random_images(4, 3, 32, 32)
    fine, coarse = np.array([99, 0, 42, 7], np.uint8), np.array([19, 1, 2, 3], np.uint8)
    write_cifar(tmp_path / "test.bin", images, fine, coarse=coarse)
    (tmp_path / "fine_label_names.txt").write_text("\n".join(f"c{i}" for i in range(100)))
    found = read_source("cifar-bin", tmp_path)
    np.testing.assert_array_equal(found.labels, fine)
    np.testing.assert_array_equal(found.pixels, images)
    assert found.num_classes == 100 and found.class_names[42] == "c42"


def test_cifar_variant_from_record_size_alone(tmp_path: Path) -> None:
    fine, coarse = np.array([55, 1, 2], np.uint8), np.zeros(3, np.uint8)
    path = write_cifar(tmp_path / "x.bin", random_images(3, 3, 32, 32), fine, coarse=coarse)
    assert read_source("cifar-bin", path).num_classes == 100


def test_cifar_ambiguous_size_needs_the_variant(tmp_path: Path) -> None:
    # 3073 CIFAR-100 records fill exactly as many bytes as 3074 CIFAR-10 records.
    n = 3073
    images = np.zeros((n, 3, 32, 32), np.uint8)
    path = write_cifar(
        tmp_path / "x.bin", images, np.zeros(n, np.uint8), coarse=np.zeros(n, np.uint8)
    )
    with pytest.raises(DatasetError, match=r"x\.bin: could be CIFAR-10 or CIFAR-100"):
        read_source("cifar-bin", path)
    assert read_source("cifar-bin", path, cifar_classes=100).n == n


def test_cifar_truncated(tmp_path: Path) -> None:
    path = write_cifar(
        tmp_path / "test_batch.bin", random_images(3, 3, 32, 32), np.zeros(3, np.uint8)
    )
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match=r"test_batch\.bin: .*truncated"):
        read_source("cifar-bin", path)


def test_cifar_label_out_of_range(tmp_path: Path) -> None:
    path = write_cifar(tmp_path / "t.bin", random_images(2, 3, 32, 32), np.array([3, 12], np.uint8))
    with pytest.raises(DatasetError, match=r"t\.bin: label 12 out of range for CIFAR-10"):
        read_source("cifar-bin", path, cifar_classes=10)


# --- npz ---------------------------------------------------------------------------------------


def test_npz_grey_and_rgb(tmp_path: Path) -> None:
    grey, rgb = random_images(6, 9, 7), random_images(6, 9, 7, 3)
    labels = np.arange(6, dtype=np.int32)
    np.savez(tmp_path / "grey.npz", images=grey, labels=labels)
    np.savez(tmp_path / "rgb.npz", images=rgb, labels=labels, class_names=np.array(list("abcdef")))
    found = read_source("npz", tmp_path / "grey.npz")
    np.testing.assert_array_equal(found.pixels[:, 0], grey)
    found = read_source("npz", tmp_path / "rgb.npz")
    np.testing.assert_array_equal(found.pixels, rgb.transpose(0, 3, 1, 2))
    assert found.labels.dtype == np.int64 and found.class_names == list("abcdef")


def test_npz_object_array_refused(tmp_path: Path) -> None:
    labels = np.empty(2, dtype=object)
    labels[:] = [1, "x"]
    np.savez(tmp_path / "evil.npz", images=random_images(2, 4, 4), labels=labels)
    with pytest.raises(DatasetError, match=r"evil\.npz: 'labels' is an object array"):
        read_source("npz", tmp_path / "evil.npz")


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((2, 4, 4), np.float32), np.zeros(2, np.int64), "images must be uint8"),
        (np.zeros((2, 4), np.uint8), np.zeros(2, np.int64), r"must have shape \(N, H, W\)"),
        (np.zeros((2, 4, 4, 2), np.uint8), np.zeros(2, np.int64), "1 or 3 channels"),
        (np.zeros((2, 3, 8, 8), np.uint8), np.zeros(2, np.int64), "channels-first"),
        (np.zeros((2, 4, 4), np.uint8), np.zeros(3, np.int64), "2 images but 3 labels"),
        (np.zeros((2, 4, 4), np.uint8), np.zeros(2, np.float64), "labels must be integers"),
        (np.zeros((2, 4, 4), np.uint8), np.array([0, -1]), "labels must be non-negative"),
        (np.zeros((0, 4, 4), np.uint8), np.zeros(0, np.int64), "no images"),
    ],
)
def test_npz_bad_arrays(
    tmp_path: Path, images: np.ndarray, labels: np.ndarray, message: str
) -> None:
    np.savez(tmp_path / "bad.npz", images=images, labels=labels)
    with pytest.raises(DatasetError, match=rf"bad\.npz: .*{message}"):
        read_source("npz", tmp_path / "bad.npz")


def test_npz_missing_key_and_not_an_archive(tmp_path: Path) -> None:
    np.savez(tmp_path / "a.npz", pixels=np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(DatasetError, match=r"a\.npz: missing array\(s\) images, labels"):
        read_source("npz", tmp_path / "a.npz")
    (tmp_path / "b.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(DatasetError, match=r"b\.npz: not a readable \.npz"):
        read_source("npz", tmp_path / "b.npz")
    np.save(tmp_path / "c.npy", np.zeros(3))
    with pytest.raises(DatasetError, match=r"c\.npy: a single \.npy array"):
        read_source("npz", tmp_path / "c.npy")


# --- ImageFolder -------------------------------------------------------------------------------


def test_imagefolder_labels_follow_sorted_folders(tmp_path: Path) -> None:
    root = write_imagefolder(
        tmp_path / "tree",
        {"zebra": [random_images(1, 6, 6)[0]], "ant": [random_images(1, 6, 6, 3)[0]] * 2},
    )
    (root / "ant" / "notes.txt").write_text("ignored")
    (root / "zebra" / "nested").mkdir()
    Image.fromarray(random_images(1, 6, 6)[0]).save(root / "zebra" / "nested" / "deep.jpg")
    found = read_source("imagefolder", root)
    assert found.class_names == ["ant", "zebra"] and found.num_classes == 2
    assert found.labels.tolist() == [0, 0, 1, 1]
    assert [p.name for p in found.files] == ["img000.png", "img001.png", "img000.png", "deep.jpg"]


def test_imagefolder_empty_class_folder(tmp_path: Path) -> None:
    root = write_imagefolder(tmp_path / "tree", {"a": [random_images(1, 4, 4)[0]]})
    (root / "b").mkdir()
    (root / "b" / "readme.md").write_text("no images here")
    with pytest.raises(DatasetError, match=r"tree/b: empty class folder"):
        read_source("imagefolder", root)


def test_imagefolder_needs_class_folders(tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    Image.fromarray(random_images(1, 4, 4)[0]).save(tmp_path / "flat" / "x.png")
    with pytest.raises(DatasetError, match=r"flat: no class folders"):
        read_source("imagefolder", tmp_path / "flat")
    with pytest.raises(DatasetError, match=r"x\.png: an ImageFolder source must be a directory"):
        read_source("imagefolder", tmp_path / "flat" / "x.png")
