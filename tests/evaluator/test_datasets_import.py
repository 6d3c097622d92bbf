"""import_dataset end to end: layout, fingerprint, split, bad input, atomicity, opening."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluator import layout
from evaluator.datasets import (
    CompiledDataset,
    ImportReport,
    import_dataset,
    load_training_split,
    open_dataset,
    open_images,
)
from evaluator.datasets import compile as compile_module
from evaluator.datasets import importer as importer_module
from evaluator.datasets.split import public_mask
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec
from tests.evaluator.test_datasets_sources import (
    random_images,
    write_cifar,
    write_idx_pair,
    write_imagefolder,
)

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
GREY28 = InputSpec(channels=1, height=28, width=28)


def npz_source(tmp_path: Path, n: int = 40, *, num_classes: int = 4, seed: int = 0) -> Path:
    images = random_images(n, 28, 28, seed=seed)
    labels = np.arange(n) % num_classes
    np.savez(tmp_path / "src.npz", images=images, labels=labels)
    return tmp_path / "src.npz"


def run(tmp_path: Path, source: Path, *, name: str = "set", fmt: str = "npz", **kw) -> ImportReport:
    kw.setdefault("spec", GREY28)
    kw.setdefault("progress", False)
    kw.setdefault("workers", 1)
    return import_dataset(fmt=fmt, source=source, out=tmp_path / name, **kw)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def labelled_folder(root: Path, *, per_class: int = 3, size: int = 40) -> Path:
    """Three classes of RGB PNGs whose pixel value encodes the class, to check label alignment."""
    return write_imagefolder(
        root,
        {
            name: [np.full((size, size + 8, 3), 10 + 100 * k, np.uint8)] * per_class
            for k, name in enumerate(["cat", "dog", "eel"])
        },
    )


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


# --- bad images, atomicity, overwrite ----------------------------------------------------------


def damage(root: Path) -> tuple[Path, Path]:
    """A truncated JPEG in class 'dog' and a text file posing as a PNG in class 'eel'."""
    jpeg = root / "dog" / "broken.jpg"
    Image.fromarray(np.full((40, 48, 3), 110, np.uint8)).save(jpeg, quality=90)
    jpeg.write_bytes(jpeg.read_bytes()[:200])
    fake = root / "eel" / "fake.png"
    fake.write_text("this is not a PNG")
    return jpeg, fake


def test_corrupt_image_fails_naming_file_and_leaves_nothing(tmp_path: Path) -> None:
    root = labelled_folder(tmp_path / "tree")
    jpeg, _ = damage(root)
    with pytest.raises(DatasetError, match=rf"{jpeg}: cannot decode image"):
        run(tmp_path, root, fmt="imagefolder", spec=InputSpec(3, 16, 16))
    assert not (tmp_path / "set").exists() and leftovers(tmp_path) == []


def test_skip_bad_counts_and_keeps_labels_aligned(tmp_path: Path) -> None:
    root = labelled_folder(tmp_path / "tree")
    jpeg, fake = damage(root)
    report = run(tmp_path, root, fmt="imagefolder", spec=InputSpec(3, 16, 16), skip_bad=True)
    assert (report.n_images, report.n_skipped) == (9, 2)
    assert [file for file, _ in report.skipped] == [str(jpeg), str(fake)]
    assert all("cannot decode image" in reason for _, reason in report.skipped)
    dataset = open_dataset(tmp_path / "set", verify=True)
    assert dataset.n == 9 and dataset.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    np.testing.assert_array_equal(dataset.images[:, 0, 8, 8], 10 + 100 * dataset.labels)
    labels_meta = dataset.labels_meta
    assert labels_meta["n_skipped"] == 2 and labels_meta["skipped"][0][0] == str(jpeg)


def test_every_image_bad_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "tree" / "a").mkdir(parents=True)
    (tmp_path / "tree" / "a" / "x.png").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match=r"tree: none of the 1 images could be decoded"):
        run(tmp_path, tmp_path / "tree", fmt="imagefolder", skip_bad=True)
    assert leftovers(tmp_path) == [] and not (tmp_path / "set").exists()


def test_interrupt_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(**_: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(importer_module, "fingerprint", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, npz_source(tmp_path))
    assert not (tmp_path / "set").exists() and leftovers(tmp_path) == []


def test_existing_out_is_refused_unless_overwrite(tmp_path: Path) -> None:
    first = run(tmp_path, npz_source(tmp_path))
    with pytest.raises(DatasetError, match=r"set: already exists"):
        run(tmp_path, npz_source(tmp_path))
    second = run(tmp_path, npz_source(tmp_path), overwrite=True, spec=InputSpec(3, 28, 28))
    assert second.fingerprint != first.fingerprint
    assert open_dataset(tmp_path / "set").spec.channels == 3
    assert leftovers(tmp_path) == []
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("years of work")
    with pytest.raises(DatasetError, match=r"precious: exists and is not a compiled data set"):
        run(tmp_path, npz_source(tmp_path), name="precious", overwrite=True)
    assert (tmp_path / "precious" / "thesis.tex").is_file()


def test_bad_fraction_is_refused_before_work(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="public fraction"):
        run(tmp_path, npz_source(tmp_path), public_fraction=-0.1)
    assert leftovers(tmp_path) == [] and not (tmp_path / "set").exists()


@pytest.mark.slow
def test_worker_pool_matches_single_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools = []
    real_run_pool = compile_module.run_pool

    def counting_run_pool(chunks, workers):
        pools.append((len(chunks), workers))
        return real_run_pool(chunks, workers)

    monkeypatch.setattr(compile_module, "run_pool", counting_run_pool)
    monkeypatch.setattr(compile_module, "MIN_POOL_IMAGES", 10)
    root = write_imagefolder(
        tmp_path / "tree",
        {f"c{k}": list(random_images(12, 30, 37, 3, seed=k)) for k in range(3)},
    )
    damage_file = root / "c1" / "zzz.png"
    damage_file.write_bytes(b"not an image")
    spec = InputSpec(channels=3, height=24, width=24)
    one = run(tmp_path, root, fmt="imagefolder", name="one", spec=spec, skip_bad=True)
    two = run(tmp_path, root, fmt="imagefolder", name="two", spec=spec, skip_bad=True, workers=2)
    assert one.fingerprint == two.fingerprint and two.skipped == one.skipped
    assert two.n_images == 36 and two.n_skipped == 1
    arrays = tmp_path / "arrays.npz"
    np.savez(arrays, images=random_images(300, 20, 20), labels=np.arange(300) % 7)
    one = run(tmp_path, arrays, name="a1", spec=spec)
    two = run(tmp_path, arrays, name="a2", spec=spec, workers=2)
    assert one.fingerprint == two.fingerprint
    assert [workers for _, workers in pools] == [2, 2] and all(n > 2 for n, _ in pools)
    assert leftovers(tmp_path) == []


# --- opening damaged sets ----------------------------------------------------------------------


def test_open_images_never_reads_labels(tmp_path: Path) -> None:
    run(tmp_path, npz_source(tmp_path))
    for path in (tmp_path / "set" / "labels").iterdir():
        path.unlink()
    (tmp_path / "set" / "labels").rmdir()
    images, meta = open_images(tmp_path / "set" / "images")
    assert images.shape == (40, 1, 28, 28) and meta["n"] == 40 and meta["num_classes"] == 4
    with pytest.raises(DatasetError, match=r"labels/labels\.npy: missing"):
        open_dataset(tmp_path / "set")


def _retype_labels(root: Path) -> None:
    np.save(
        root / "labels" / "labels.npy", np.load(root / "labels" / "labels.npy").astype(np.int32)
    )


def _labels_out_of_range(root: Path) -> None:
    np.save(root / "labels" / "labels.npy", np.full(40, 4, np.int64))


def _short_split(root: Path) -> None:
    np.save(root / "labels" / "split.npy", np.zeros(39, bool))


def _wrong_n(root: Path) -> None:
    meta_path = root / "images" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["n"] = 41
    meta_path.write_text(json.dumps(meta))


def _truncated_images(root: Path) -> None:
    path = root / "images" / "images.npy"
    path.write_bytes(path.read_bytes()[:1000])


def _broken_meta(root: Path) -> None:
    (root / "images" / "meta.json").write_text("{not json")


def _pickled_labels(root: Path) -> None:
    np.save(root / "labels" / "labels.npy", np.array([object()] * 40), allow_pickle=True)


@pytest.mark.parametrize(
    ("damage_set", "message"),
    [
        (_retype_labels, r"labels/labels\.npy: dtype int32, expected int64"),
        (_labels_out_of_range, r"labels/labels\.npy: labels span 4\.\.4, outside 0\.\.3"),
        (_short_split, r"labels/split\.npy: shape \(39,\), expected \(40,\)"),
        (_wrong_n, r"images/images\.npy: shape \(40, 1, 28, 28\), expected \(41, 1, 28, 28\)"),
        (_truncated_images, r"images/images\.npy: not a readable \.npy array"),
        (_broken_meta, r"images/meta\.json: unreadable JSON"),
        (_pickled_labels, r"labels/labels\.npy: not a readable \.npy array"),
    ],
)
def test_open_dataset_names_the_damaged_file(tmp_path: Path, damage_set, message: str) -> None:
    run(tmp_path, npz_source(tmp_path))
    damage_set(tmp_path / "set")
    with pytest.raises(DatasetError, match=message):
        open_dataset(tmp_path / "set")


def test_open_dataset_missing_root(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nothing: no compiled data set here"):
        open_dataset(tmp_path / "nothing")


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
