"""Compiling the transformed copies: right content, atomic, deterministic, stale copies caught."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from evaluator import layout, robustness
from evaluator.datasets import open_images
from evaluator.errors import DatasetError
from evaluator.robustness import compile as robustness_compile
from evaluator.robustness.compile import (
    compile_robust_sets,
    ensure_robust_sets,
    open_robust_images,
    read_robust_sets,
    verify_robust_sets,
)
from tests.evaluator.conftest import write_compiled_dataset


def file_digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def leftovers(images_dir: Path) -> list[str]:
    return [p.name for p in images_dir.iterdir() if p.name.startswith(".")]


def test_every_copy_is_the_transform_of_the_whole_set(tiny_dataset: Path, monkeypatch) -> None:
    monkeypatch.setattr(robustness_compile, "CHUNK_BYTES", 10 * 28 * 28)  # 7 chunks of 10
    compiled = compile_robust_sets(dataset_dir=tiny_dataset)
    images, _ = open_images(layout.images_dir(tiny_dataset))
    assert compiled.names == robustness.NAMES
    assert compiled.directory == layout.robust_dir(tiny_dataset)
    for name in robustness.NAMES:
        copy = open_robust_images(
            images_dir=layout.images_dir(tiny_dataset), name=name, shape=images.shape
        )
        np.testing.assert_array_equal(copy, robustness.apply_numpy(name, images))
    meta = json.loads((compiled.directory / "meta.json").read_text())
    assert (
        meta["source_fingerprint"]
        == json.loads((layout.images_dir(tiny_dataset) / layout.META_FILE).read_text())[
            "fingerprint"
        ]
    )
    assert meta["corruptions"] == list(robustness.CORRUPTIONS)
    assert [t["params"] for t in meta["transforms"]][:3] == [
        {"degrees": 15},
        {"degrees": 45},
        {"degrees": 90},
    ]
    verify_robust_sets(compiled)
    assert not leftovers(layout.images_dir(tiny_dataset))
    assert not (layout.labels_dir(tiny_dataset) / layout.ROBUST_DIR).exists()  # images only


def test_compiling_is_deterministic(tmp_path: Path) -> None:
    first = write_compiled_dataset(tmp_path / "a", n=40, seed=3)
    second = tmp_path / "b"
    shutil.copytree(first, second)
    a = compile_robust_sets(dataset_dir=first)
    b = compile_robust_sets(dataset_dir=second)
    assert file_digests(a.directory) == file_digests(b.directory)  # meta.json included
    assert a.fingerprint == b.fingerprint
    before = file_digests(a.directory)
    again = compile_robust_sets(dataset_dir=first, overwrite=True)
    assert file_digests(again.directory) == before


def test_current_copies_are_kept_and_not_compiled_again(tiny_dataset: Path, monkeypatch) -> None:
    compiled = compile_robust_sets(dataset_dir=tiny_dataset)
    mtimes = {p.name: p.stat().st_mtime_ns for p in compiled.directory.iterdir()}

    def refuse(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(robustness_compile, "_write_copy", refuse)
    assert compile_robust_sets(dataset_dir=tiny_dataset).fingerprint == compiled.fingerprint
    assert ensure_robust_sets(dataset_dir=tiny_dataset).fingerprint == compiled.fingerprint
    assert {p.name: p.stat().st_mtime_ns for p in compiled.directory.iterdir()} == mtimes


@pytest.mark.parametrize("failure", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_failed_compile_leaves_nothing_behind(
    tiny_dataset: Path, monkeypatch, failure: BaseException
) -> None:
    real = robustness.apply_numpy
    seen: list[str] = []

    def flaky(name, images, *, first_index=0):
        seen.append(name)
        if len(seen) == 5:
            raise failure
        return real(name, images, first_index=first_index)

    monkeypatch.setattr(robustness, "apply_numpy", flaky)
    with pytest.raises(type(failure)):
        compile_robust_sets(dataset_dir=tiny_dataset)
    images_dir = layout.images_dir(tiny_dataset)
    assert not (images_dir / layout.ROBUST_DIR).exists()
    assert not leftovers(images_dir)
    with pytest.raises(DatasetError, match="missing"):
        read_robust_sets(images_dir=images_dir, names=robustness.NAMES)


def test_a_failed_recompile_keeps_the_previous_copies(tiny_dataset: Path, monkeypatch) -> None:
    compiled = compile_robust_sets(dataset_dir=tiny_dataset)
    before = file_digests(compiled.directory)

    def broken(name, images, *, first_index=0):
        raise OSError("no space left on device")

    monkeypatch.setattr(robustness, "apply_numpy", broken)
    with pytest.raises(OSError):
        compile_robust_sets(dataset_dir=tiny_dataset, overwrite=True)
    assert file_digests(compiled.directory) == before
    assert not leftovers(layout.images_dir(tiny_dataset))


def test_copies_of_a_changed_set_are_stale_and_compiled_again(tiny_dataset: Path) -> None:
    compile_robust_sets(dataset_dir=tiny_dataset, names=("hflip", "darker"))
    images_dir = layout.images_dir(tiny_dataset)
    meta_path = images_dir / layout.META_FILE
    meta = json.loads(meta_path.read_text())
    meta["fingerprint"] = "0" * 64  # as if the set had been re-imported
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match="stale"):
        read_robust_sets(images_dir=images_dir, names=("hflip",))
    renewed = ensure_robust_sets(dataset_dir=tiny_dataset, names=("hflip",))
    assert renewed.meta["source_fingerprint"] == "0" * 64
    with pytest.raises(DatasetError, match="darker is missing"):
        read_robust_sets(images_dir=images_dir, names=("darker",))


def test_changed_parameters_or_damaged_files_are_refused(tiny_dataset: Path) -> None:
    compiled = compile_robust_sets(dataset_dir=tiny_dataset, names=("rotate_15", "noise_low"))
    images_dir = layout.images_dir(tiny_dataset)
    meta = json.loads((compiled.directory / "meta.json").read_text())
    meta["transforms"][0]["params"]["degrees"] = 20
    (compiled.directory / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match="other parameters"):
        read_robust_sets(images_dir=images_dir, names=("rotate_15",))

    compiled = compile_robust_sets(dataset_dir=tiny_dataset, names=("noise_low",), overwrite=True)
    path = compiled.directory / "noise_low.npy"
    copy = np.load(path, mmap_mode="r+")
    copy[3, 0, 5, 5] ^= 0xFF
    copy.flush()
    del copy
    with pytest.raises(DatasetError, match="does not match its digest"):
        verify_robust_sets(compiled)
    np.save(path, np.zeros((3, 1, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match="shape"):
        read_robust_sets(images_dir=images_dir, names=("noise_low",))


def test_a_concurrent_compile_that_finished_first_wins(tiny_dataset: Path, monkeypatch) -> None:
    theirs = compile_robust_sets(dataset_dir=tiny_dataset, names=("hflip",))
    before = file_digests(theirs.directory)
    parked = tiny_dataset / "theirs"
    shutil.move(theirs.directory, parked)

    def racing_rename(tmp: Path, out: Path) -> None:
        shutil.move(parked, out)  # the other worker renames first...
        os.rename(tmp, out)  # ...so ours meets a non-empty directory

    monkeypatch.setattr(robustness_compile, "move_into_place", racing_rename)
    compiled = compile_robust_sets(dataset_dir=tiny_dataset, names=("hflip",))
    assert file_digests(compiled.directory) == before
    assert not leftovers(layout.images_dir(tiny_dataset))
