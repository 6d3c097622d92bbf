"""import_dataset on bad input: corrupt images, interruption, overwrite, damaged sets.

Also the worker pool, which must skip the same bad files as one process. What a good import
writes: test_datasets_import.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluator.datasets import compile as compile_module
from evaluator.datasets import importer as importer_module
from evaluator.datasets import open_dataset, open_images
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec
from tests.evaluator.datasets_helpers import labelled_folder, leftovers, npz_source, run
from tests.evaluator.test_datasets_sources import random_images, write_imagefolder

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
    """Files on decoding threads, arrays on worker processes: both as one process does them."""
    pools, threads = [], []
    real_run_pool, real_run_threads = compile_module.run_pool, compile_module.run_threads

    def counting_run_pool(chunks, workers):
        pools.append((len(chunks), workers))
        return real_run_pool(chunks, workers)

    def counting_run_threads(source, spec, out, bounds, **kw):
        threads.append((len(bounds), kw["workers"]))
        return real_run_threads(source, spec, out, bounds, **kw)

    monkeypatch.setattr(compile_module, "run_pool", counting_run_pool)
    monkeypatch.setattr(compile_module, "run_threads", counting_run_threads)
    monkeypatch.setattr(compile_module, "MIN_POOL_IMAGES", 10)
    root = write_imagefolder(
        tmp_path / "tree",
        {f"c{k}": list(random_images(12, 30, 37, 3, seed=k)) for k in range(3)},
    )
    damage_file = root / "c1" / "zzz.png"
    damage_file.write_bytes(b"not an image")
    for k in range(3):  # JPEGs of two sizes too, so that the threads resize in batches
        jpegs = [*random_images(3, 40, 52, 3, seed=10 + k), *random_images(2, 48, 52, 3, seed=k)]
        for i, image in enumerate(jpegs):
            Image.fromarray(image).save(root / f"c{k}" / f"j{i}.jpg", quality=90)
    spec = InputSpec(channels=3, height=24, width=24)
    one = run(tmp_path, root, fmt="imagefolder", name="one", spec=spec, skip_bad=True)
    two = run(tmp_path, root, fmt="imagefolder", name="two", spec=spec, skip_bad=True, workers=2)
    assert one.fingerprint == two.fingerprint and two.skipped == one.skipped
    assert two.n_images == 51 and two.n_skipped == 1
    assert one.drafted == two.drafted == 0
    arrays = tmp_path / "arrays.npz"
    np.savez(arrays, images=random_images(300, 20, 20), labels=np.arange(300) % 7)
    one = run(tmp_path, arrays, name="a1", spec=spec)
    two = run(tmp_path, arrays, name="a2", spec=spec, workers=2)
    assert one.fingerprint == two.fingerprint
    assert [workers for _, workers in threads] == [2] and threads[0][0] > 2
    assert [workers for _, workers in pools] == [2] and pools[0][0] > 2
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
