"""Shards of a hidden set: each scores exactly its slice, and the merge equals one whole run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from evaluator import layout, shards
from evaluator.datasets.store import image_slice
from evaluator.formats.base import ModelFormat
from evaluator.inference.staging import _reader
from evaluator.sandbox.runner import run_model
from evaluator.scoring import score
from tests.evaluator.conftest import write_compiled_dataset

pytestmark = pytest.mark.timeout(300)
N, CLASSES = 150, 10


def linear_onnx(path: Path, *, features: int, classes: int, seed: int = 0) -> np.ndarray:
    """A flatten + linear ONNX classifier with random weights; returns W (bias 0) for checks."""
    weight = np.random.default_rng(seed).normal(size=(features, classes)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["input"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "W"], ["logits"]),
        ],
        "linear",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        initializer=[helper.make_tensor("W", TensorProto.FLOAT, weight.shape, weight.ravel())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return weight


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_compiled_dataset(tmp_path_factory.mktemp("set") / "set", n=N)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> tuple[Path, np.ndarray]:
    path = tmp_path_factory.mktemp("model") / "linear.onnx"
    return path, linear_onnx(path, features=28 * 28, classes=CLASSES)


def expected_logits(dataset: Path, weight: np.ndarray) -> np.ndarray:
    """The model computed by hand on the compiled images: (x / 255 - 0.5) / 0.5 @ W."""
    images = np.load(dataset / "images" / "images.npy").astype(np.float32)
    x = ((images / 255.0 - 0.5) / 0.5).reshape(len(images), -1)
    return x @ weight


def test_spans_tile_the_set_in_order_and_the_last_is_shorter():
    assert shards.shard_spans(n_images=10, shard_size=4) == [(0, 4), (4, 8), (8, 10)]
    assert shards.shard_spans(n_images=8, shard_size=4) == [(0, 4), (4, 8)]
    assert shards.shard_spans(n_images=3, shard_size=10) == [(0, 3)]
    with pytest.raises(ValueError):
        shards.shard_spans(n_images=0, shard_size=4)


def test_a_slice_is_a_memory_map_of_its_own_so_the_gpu_reader_reads_the_slice(tmp_path):
    array = np.arange(10 * 3 * 4 * 4, dtype=np.uint8).reshape(10, 3, 4, 4)
    np.save(tmp_path / "images.npy", array)
    images = np.load(tmp_path / "images.npy", mmap_mode="r")
    part = image_slice(images, start=3, stop=7)
    assert isinstance(part, np.memmap) and np.array_equal(part, array[3:7])
    # What the CUDA stager does: pread from the file at the map's offset (no GPU needed here).
    buf = np.zeros((4, 3, 4, 4), dtype=np.uint8)
    _reader(part)(buf, 0, 4)
    assert np.array_equal(buf, array[3:7])
    naive = np.zeros_like(buf)  # why: a plain slice keeps the parent's offset
    _reader(images[3:7])(naive, 0, 4)
    assert np.array_equal(naive, array[0:4])
    assert image_slice(images, start=None, stop=None) is images


def test_run_model_on_a_slice_returns_exactly_that_slice(dataset, model):
    path, weight = model
    child = run_model(
        model_path=path,
        fmt=ModelFormat.ONNX,
        arch=None,
        images_dir=layout.images_dir(dataset),
        num_classes=CLASSES,
        start=40,
        stop=90,
        memory_mb=None,
    )
    assert child.logits.shape == (50, CLASSES) and child.info["n_images"] == 50
    np.testing.assert_allclose(
        child.logits, expected_logits(dataset, weight)[40:90], rtol=1e-4, atol=1e-3
    )


def test_a_slice_outside_the_set_is_refused_before_any_process_starts(dataset, model):
    from evaluator.errors import DatasetError

    with pytest.raises(DatasetError, match=r"\[100, 200\)"):
        run_model(
            model_path=model[0],
            fmt=ModelFormat.ONNX,
            arch=None,
            images_dir=layout.images_dir(dataset),
            num_classes=CLASSES,
            start=100,
            stop=200,
        )


def test_merged_shards_equal_one_whole_run(dataset, model, tmp_path):
    path, _weight = model
    whole = score(dataset_dir=dataset, model_path=path, memory_mb=None)
    spans = shards.shard_spans(n_images=N, shard_size=40)
    directory = tmp_path / "shards"
    for index, span in reversed(list(enumerate(spans))):  # any order: the index places it
        info = shards.score_shard(
            dataset_dir=dataset,
            model_path=path,
            arch=None,
            span=span,
            index=index,
            directory=directory,
            memory_mb=None,
        )
        assert (info["start"], info["stop"], info["index"]) == (*span, index)
    merged = shards.merge_shards(
        dataset_dir=dataset, model_path=path, arch=None, spans=spans, directory=directory
    )
    for key in ("top1_correct", "top5_correct", "top1_error", "top5_error", "ci95", "n_images"):
        assert merged[key] == whole[key], key
    for part in ("public", "private"):
        assert merged[part] == whole[part], part
    assert merged["confusion_matrix"] == whole["confusion_matrix"]
    assert merged["public_confusion_matrix"] == whole["public_confusion_matrix"]
    assert merged["per_class_accuracy"] == whole["per_class_accuracy"]
    assert merged["model_sha256"] == whole["model_sha256"]
    assert merged["dataset_fingerprint"] == whole["dataset_fingerprint"]
    assert [s["index"] for s in merged["shards"]] == list(range(len(spans)))
    assert merged["sandbox"] == whole["sandbox"]
    # Counted from the file; timed by the parent over the shards' summed wall seconds.
    assert merged["params"] == whole["params"] == 28 * 28 * CLASSES
    assert merged["params_source"] == "file"
    walls = sum(s["wall_seconds"] for s in merged["shards"])
    assert merged["throughput_img_s"] == pytest.approx(N / walls)
    assert merged["throughput_source"] == "parent"
    assert 0 < merged["top1_error"] < 1  # random weights, random images: some right, some not


def test_a_repeated_shard_overwrites_its_own_file_and_is_counted_once(dataset, model, tmp_path):
    path, _weight = model
    spans = shards.shard_spans(n_images=N, shard_size=75)
    directory = tmp_path / "shards"
    for _ in range(2):  # a redelivered shard runs again
        for index, span in enumerate(spans):
            shards.score_shard(
                dataset_dir=dataset,
                model_path=path,
                arch=None,
                span=span,
                index=index,
                directory=directory,
                memory_mb=None,
            )
    assert sorted(p.name for p in directory.iterdir()) == [
        "shard-00000.json",
        "shard-00000.npy",
        "shard-00001.json",
        "shard-00001.npy",
    ]  # no temporary file left behind, one file per index
    merged = shards.merge_shards(
        dataset_dir=dataset, model_path=path, arch=None, spans=spans, directory=directory
    )
    assert merged["n_images"] == N and len(merged["shards"]) == 2


def test_a_missing_or_damaged_shard_stops_the_merge(dataset, model, tmp_path):
    path, _weight = model
    spans = [(0, 100), (100, N)]
    directory = tmp_path / "shards"
    shards.score_shard(
        dataset_dir=dataset,
        model_path=path,
        arch=None,
        span=spans[0],
        index=0,
        directory=directory,
        memory_mb=None,
    )
    with pytest.raises(shards.ShardMissing, match="shard-00001"):
        shards.merge_shards(
            dataset_dir=dataset, model_path=path, arch=None, spans=spans, directory=directory
        )
    (directory / "shard-00001.json").write_text(json.dumps({"start": 100, "stop": N}))
    np.save(directory / "shard-00001.npy", np.zeros((N - 100, CLASSES + 1), dtype=np.float32))
    with pytest.raises(shards.ShardMissing, match="expected float32"):
        shards.merge_shards(
            dataset_dir=dataset, model_path=path, arch=None, spans=spans, directory=directory
        )
    with pytest.raises(ValueError, match="do not tile"):
        shards.merge_shards(
            dataset_dir=dataset,
            model_path=path,
            arch=None,
            spans=[(0, 100), (90, N)],
            directory=directory,
        )
