"""import_dataset end to end: layout, contents, real data, fingerprint, split, training splits.

Bad input, atomicity, overwrite and opening damaged sets: test_datasets_import_failures.py.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import numpy as np
import pytest

from evaluator import layout
from evaluator.datasets import CompiledDataset, import_dataset, load_training_split, open_dataset
from evaluator.datasets.split import public_mask
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec
from tests.evaluator.datasets_helpers import GREY28, labelled_folder, leftovers, npz_source, run
from tests.evaluator.test_datasets_sources import random_images, write_cifar, write_idx_pair

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


# --- layout and contents -----------------------------------------------------------------------


def test_npz_import_writes_the_layout(tmp_path: Path) -> None:
    report = run(tmp_path, npz_source(tmp_path), public_fraction=0.25, seed=3)
    root = tmp_path / "set"
    assert report.out == root and report.n_images == 40 and report.num_classes == 4
    assert report.n_skipped == 0 and report.seconds > 0 and len(report.fingerprint) == 64
    images = np.load(root / "images" / "images.npy", mmap_mode="r")
    assert images.dtype == np.uint8 and images.shape == (40, 1, 28, 28)
    with np.load(tmp_path / "src.npz") as src:
        np.testing.assert_array_equal(images[:, 0], src["images"])
    labels = np.load(root / "labels" / "labels.npy")
    assert labels.dtype == np.int64 and labels.tolist() == [i % 4 for i in range(40)]
    split = np.load(root / "labels" / "split.npy")
    assert split.dtype == np.bool_ and split.sum() == 10
    meta = json.loads((root / "images" / "meta.json").read_text())
    assert meta["format_version"] == layout.FORMAT_VERSION
    assert meta["n"] == 40 and meta["num_classes"] == 4 and meta["class_names"] == list("0123")
    assert meta["spec"] == GREY28.to_dict() and meta["fingerprint"] == report.fingerprint
    assert not {"labels", "split", "public_fraction", "seed", "source_path"} & set(meta)
    labels_meta = json.loads((root / "labels" / "meta.json").read_text())
    assert labels_meta["public_fraction"] == 0.25 and labels_meta["seed"] == 3
    assert labels_meta["source_format"] == "npz" and labels_meta["n_skipped"] == 0
    assert labels_meta["source_path"].endswith("src.npz") and labels_meta["created_at"]
    assert sorted(p.name for p in root.iterdir()) == ["images", "labels"]
    assert leftovers(tmp_path) == []


def test_open_dataset_reads_back(tmp_path: Path) -> None:
    report = run(tmp_path, npz_source(tmp_path))
    dataset = open_dataset(tmp_path / "set", verify=True)
    assert isinstance(dataset, CompiledDataset)
    assert (dataset.n, dataset.num_classes, dataset.fingerprint) == (40, 4, report.fingerprint)
    assert dataset.spec == GREY28 and dataset.class_names == list("0123")
    assert isinstance(dataset.images, np.memmap) and dataset.images.shape == (40, 1, 28, 28)
    assert dataset.labels.dtype == np.int64 and dataset.public_mask.sum() == 20
    assert dataset.labels_meta["seed"] == 0


def test_conftest_fixture_set_opens(tiny_dataset: Path) -> None:
    dataset = open_dataset(tiny_dataset)
    assert dataset.n == 64 and dataset.num_classes == 10


def test_idx_import_with_class_names_file(tmp_path: Path) -> None:
    write_idx_pair(tmp_path / "src", random_images(30, 28, 28), np.arange(30, dtype=np.uint8) % 3)
    names = tmp_path / "names.txt"
    names.write_text("apple\nbanana\ncherry\n")
    report = run(tmp_path, tmp_path / "src", fmt="idx", class_names_file=names)
    assert report.num_classes == 3
    assert open_dataset(tmp_path / "set").class_names == ["apple", "banana", "cherry"]


def test_class_names_file_count_must_match(tmp_path: Path) -> None:
    root = labelled_folder(tmp_path / "tree")
    names = tmp_path / "names.txt"
    names.write_text("a\nb\n")
    with pytest.raises(DatasetError, match=r"names\.txt: 2 class names, the source has 3 classes"):
        run(tmp_path, root, fmt="imagefolder", class_names_file=names)
    write_idx_pair(tmp_path / "src", random_images(5, 28, 28), np.arange(5, dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"names\.txt: 2 class names, but the labels go up to 4"):
        run(tmp_path, tmp_path / "src", fmt="idx", class_names_file=names)
    assert leftovers(tmp_path) == [] and not (tmp_path / "set").exists()


def test_names_file_beside_an_idx_source_is_used(tmp_path: Path) -> None:
    write_idx_pair(tmp_path / "src", random_images(4, 28, 28), np.arange(4, dtype=np.uint8) % 2)
    (tmp_path / "src" / "class_names.txt").write_text("even\nodd\n")
    run(tmp_path, tmp_path / "src", fmt="idx")
    assert open_dataset(tmp_path / "set").class_names == ["even", "odd"]


def test_imagefolder_import_resizes_and_keeps_names(tmp_path: Path) -> None:
    root = labelled_folder(tmp_path / "tree")
    report = run(tmp_path, root, fmt="imagefolder", spec=InputSpec(channels=3, height=16, width=16))
    dataset = open_dataset(tmp_path / "set")
    assert report.n_images == 9 and dataset.class_names == ["cat", "dog", "eel"]
    assert dataset.images.shape == (9, 3, 16, 16)
    np.testing.assert_array_equal(dataset.images[:, 0, 0, 0], 10 + 100 * dataset.labels)


def test_cifar_import_to_grey(tmp_path: Path) -> None:
    images = random_images(6, 3, 32, 32)
    write_cifar(tmp_path / "c" / "test_batch.bin", images, np.arange(6, dtype=np.uint8))
    report = run(tmp_path, tmp_path / "c", fmt="cifar-bin", spec=InputSpec(1, 32, 32))
    assert report.num_classes == 10
    dataset = open_dataset(tmp_path / "set")
    assert dataset.images.shape == (6, 1, 32, 32) and dataset.class_names == [
        str(i) for i in range(10)
    ]


def test_limit(tmp_path: Path) -> None:
    assert run(tmp_path, npz_source(tmp_path), limit=7).n_images == 7


# --- real data ---------------------------------------------------------------------------------


def test_sklearn_digits_via_npz_to_rgb32(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)
    np.savez(tmp_path / "digits.npz", images=images, labels=digits.target)
    spec = InputSpec(channels=3, height=32, width=32)
    report = run(tmp_path, tmp_path / "digits.npz", spec=spec)
    assert (report.n_images, report.num_classes) == (1797, 10)
    dataset = open_dataset(tmp_path / "set")
    assert dataset.images.shape == (1797, 3, 32, 32)
    np.testing.assert_array_equal(dataset.labels, digits.target)
    np.testing.assert_array_equal(dataset.images[:, 0], dataset.images[:, 2])
    # Averaging each 4x4 block of the upscaled digit gives back (nearly) the 8x8 original.
    pooled = dataset.images[:, 0].reshape(1797, 8, 4, 8, 4).astype(float).mean(axis=(2, 4))
    assert np.corrcoef(pooled.ravel(), images.ravel().astype(float))[0, 1] > 0.97


def read_raw_idx(path: Path, offset: int) -> np.ndarray:
    return np.frombuffer(gzip.decompress(path.read_bytes()), np.uint8, offset=offset)


@pytest.mark.skipif(
    not (FASHION_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"Fashion-MNIST not installed at {FASHION_MNIST} (Debian package dataset-fashion-mnist)",
)
def test_fashion_mnist_test_set(tmp_path: Path) -> None:
    started = time.perf_counter()
    report = import_dataset(
        fmt="idx", source=FASHION_MNIST, out=tmp_path / "fm", spec=GREY28, progress=False
    )
    elapsed = time.perf_counter() - started
    assert (report.n_images, report.num_classes, report.n_skipped) == (10000, 10, 0)
    assert elapsed < 5.0, f"10k same-size images took {elapsed:.1f} s"
    dataset = open_dataset(tmp_path / "fm")
    raw = read_raw_idx(FASHION_MNIST / "t10k-images-idx3-ubyte.gz", 16)
    np.testing.assert_array_equal(np.asarray(dataset.images).ravel(), raw)
    raw_labels = read_raw_idx(FASHION_MNIST / "t10k-labels-idx1-ubyte.gz", 8)
    np.testing.assert_array_equal(dataset.labels, raw_labels)
    assert dataset.public_mask.sum() == 5000


# --- fingerprint and split ---------------------------------------------------------------------


def test_fingerprint_is_deterministic_and_sensitive(tmp_path: Path) -> None:
    images, labels = random_images(20, 28, 28), np.arange(20) % 5
    sources = {}
    for name, (imgs, labs) in {
        "same": (images, labels),
        "pixel": (images.copy(), labels),
        "label": (images, labels.copy()),
    }.items():
        sources[name] = tmp_path / f"{name}.npz"
        if name == "pixel":
            imgs[7, 3, 3] ^= 1
        if name == "label":
            labs[0] = 4
        np.savez(sources[name], images=imgs, labels=labs)
    first = run(tmp_path, sources["same"], name="a", seed=1).fingerprint
    assert run(tmp_path, sources["same"], name="b", seed=2).fingerprint == first
    assert run(tmp_path, sources["pixel"], name="c").fingerprint != first
    assert run(tmp_path, sources["label"], name="d").fingerprint != first
    (tmp_path / "names.txt").write_text("a\nb\nc\nd\ne\n")
    named = run(tmp_path, sources["same"], name="e", class_names_file=tmp_path / "names.txt")
    assert named.fingerprint != first
    assert run(tmp_path, sources["same"], name="f", spec=InputSpec(3, 28, 28)).fingerprint != first


def test_verify_detects_tampering(tmp_path: Path) -> None:
    run(tmp_path, npz_source(tmp_path))
    labels_path = tmp_path / "set" / "labels" / "labels.npy"
    labels = np.load(labels_path)
    labels[0] = (labels[0] + 1) % 4
    np.save(labels_path, labels)
    open_dataset(tmp_path / "set")  # cheap checks still pass
    with pytest.raises(DatasetError, match=r"set: content does not match its fingerprint"):
        open_dataset(tmp_path / "set", verify=True)


def test_split_is_deterministic_with_exact_fraction() -> None:
    a = public_mask(1001, fraction=0.3, seed=5)
    assert a.dtype == np.bool_ and a.sum() == round(1001 * 0.3)
    np.testing.assert_array_equal(a, public_mask(1001, fraction=0.3, seed=5))
    assert (a != public_mask(1001, fraction=0.3, seed=6)).any()
    assert public_mask(10, fraction=0.0, seed=0).sum() == 0
    assert public_mask(10, fraction=1.0, seed=0).all()
    with pytest.raises(DatasetError, match="public fraction must be between 0 and 1"):
        public_mask(10, fraction=1.5, seed=0)


def test_split_stored_matches_seed(tmp_path: Path) -> None:
    run(tmp_path, npz_source(tmp_path), name="a", seed=9, public_fraction=0.4)
    run(tmp_path, npz_source(tmp_path), name="b", seed=9, public_fraction=0.4)
    a, b = open_dataset(tmp_path / "a"), open_dataset(tmp_path / "b")
    np.testing.assert_array_equal(a.public_mask, b.public_mask)
    np.testing.assert_array_equal(a.public_mask, public_mask(40, fraction=0.4, seed=9))


# --- training splits ---------------------------------------------------------------------------


def test_load_training_split(tmp_path: Path) -> None:
    labels = np.arange(9, dtype=np.uint8) % 3
    write_idx_pair(tmp_path / "src", random_images(4, 28, 28), labels[:4])
    write_idx_pair(tmp_path / "src", random_images(9, 28, 28, seed=2), labels, prefix="train")
    images, train_labels = load_training_split(fmt="idx", source=tmp_path / "src")
    assert images.shape == (9, 1, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[:, 0], random_images(9, 28, 28, seed=2))
    np.testing.assert_array_equal(train_labels, labels)
    resized, _ = load_training_split(
        fmt="idx", source=tmp_path / "src", spec=InputSpec(3, 32, 32), limit=5
    )
    assert resized.shape == (5, 3, 32, 32)
    with pytest.raises(DatasetError, match="ImageFolder training tree"):
        load_training_split(fmt="imagefolder", source=tmp_path)
