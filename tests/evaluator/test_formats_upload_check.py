"""The format check that runs in the web request and the worker's parent costs little whatever
the file; the full ONNX check runs in the sandbox child and its refusal comes back from there."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from evaluator.errors import UnsupportedFormat
from evaluator.formats import archives
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import SAFETENSORS_MAX_HEADER, detect_format
from evaluator.formats.onnx_check import check_onnx
from evaluator.scoring import score
from tests.evaluator.models import ModelFiles
from tests.evaluator.protobuf_bytes import write_crafted_onnx

pytestmark = pytest.mark.timeout(300)
REPO = Path(__file__).resolve().parents[2]
RSS_BOUND_MB = 150

# Peak RSS of a fresh process around one call (what the web worker would pay for it). VmHWM
# is the peak of this process's own memory map, which starts at exec; getrusage's ru_maxrss
# would carry over the peak of the (large) test process that forked it.
_MEASURE = """
import json, sys, time
def peak_mb():
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
setup, call = sys.argv[1], sys.argv[2]
exec(setup)
before = peak_mb()
start = time.perf_counter()
try:
    result = repr(eval(call))
except Exception as exc:
    result = type(exc).__name__
seconds = time.perf_counter() - start
print(json.dumps({"result": result, "seconds": seconds, "rss_mb": peak_mb() - before}))
"""


def measure(setup: str, call: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, setup, call],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> Path:
    return write_crafted_onnx(tmp_path_factory.mktemp("crafted") / "model.onnx")


def test_crafted_onnx_costs_the_web_check_little(crafted: Path) -> None:
    """Ten megabytes of two million nodes: ``onnx.load`` pays seconds and hundreds of megabytes
    for it; the web check reads its outline only."""
    assert 9_000_000 < crafted.stat().st_size < 11_000_000
    web = measure(
        "from evaluator.formats.detect import detect_format",
        f"detect_format({str(crafted)!r})",
    )
    assert web["result"] == "<ModelFormat.ONNX: 'onnx'>"  # the child decides the rest
    assert web["seconds"] < 0.5
    assert web["rss_mb"] < RSS_BOUND_MB
    parse = measure("import onnx", f"onnx.load({str(crafted)!r})")
    assert parse["rss_mb"] > RSS_BOUND_MB  # why the full parse stays out of the web process


def test_crafted_onnx_is_refused_by_the_full_check(crafted: Path) -> None:
    with pytest.raises(UnsupportedFormat, match="no graph with inputs, outputs and nodes"):
        check_onnx(crafted)


def _model(graph: onnx.GraphProto | None) -> onnx.ModelProto:
    model = helper.make_model(
        graph or helper.make_graph([], "empty", [], []),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    if graph is None:
        model.ClearField("graph")
    return model


def test_onnx_without_a_graph_field_is_refused_by_the_web_check(tmp_path: Path) -> None:
    path = tmp_path / "nograph.onnx"
    onnx.save(_model(None), str(path))
    with pytest.raises(UnsupportedFormat, match="not a valid ONNX model"):
        detect_format(path)


@pytest.mark.parametrize(
    "content",
    [b"\x08\x07\x3a\x05\x0a", b"\x08\x07\x3b\x00", b"\x08\x07\x3a\x02\x0d\x00"],
    ids=["graph-past-the-end", "group", "graph-starting-with-a-fixed32"],
)
def test_onnx_outline_that_is_not_a_model_proto_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(UnsupportedFormat, match="not a model file in an accepted format"):
        detect_format(path)


@pytest.fixture
def external_data_onnx(model_files: ModelFiles, tmp_path: Path) -> Path:
    model = onnx.load(str(model_files.onnx))
    path = tmp_path / "external.onnx"
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )
    assert (tmp_path / "weights.bin").exists()
    return path


@pytest.fixture
def empty_graph_onnx(tmp_path: Path) -> Path:
    """A graph with an input and an output but no node: a ModelProto, not a usable model."""
    graph = helper.make_graph(
        [],
        "nothing",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
    )
    path = tmp_path / "empty.onnx"
    onnx.save(_model(graph), str(path))
    return path


def test_external_data_and_empty_graphs_pass_the_web_check(
    external_data_onnx: Path, empty_graph_onnx: Path
) -> None:
    """Telling them apart needs the whole protobuf: the child's check refuses them."""
    assert detect_format(external_data_onnx) is ModelFormat.ONNX
    assert detect_format(empty_graph_onnx) is ModelFormat.ONNX
    with pytest.raises(UnsupportedFormat, match="external data"):
        check_onnx(external_data_onnx)
    with pytest.raises(UnsupportedFormat, match="no graph with inputs, outputs and nodes"):
        check_onnx(empty_graph_onnx)


def test_external_data_is_refused_by_the_child_when_scored(
    tiny_dataset: Path, external_data_onnx: Path
) -> None:
    with pytest.raises(UnsupportedFormat) as info:
        score(dataset_dir=tiny_dataset, model_path=external_data_onnx)
    assert info.value.code == "unsupported_format"
    assert "references external data files, which are not accepted" in info.value.message
    assert "save_as_external_data=False" in info.value.message


def test_empty_graph_is_refused_by_the_child_when_scored(
    tiny_dataset: Path, empty_graph_onnx: Path
) -> None:
    with pytest.raises(UnsupportedFormat) as info:
        score(dataset_dir=tiny_dataset, model_path=empty_graph_onnx)
    assert info.value.code == "unsupported_format"
    assert "not a valid ONNX model (no graph with inputs, outputs and nodes)" in str(info.value)


def test_zip_with_too_many_entries_is_refused_before_its_directory_is_read(
    model_files: ModelFiles, monkeypatch
) -> None:
    with zipfile.ZipFile(model_files.torchscript) as archive:
        entries = len(archive.namelist())
    monkeypatch.setattr(archives, "MAX_ENTRIES", entries - 1)
    with pytest.raises(UnsupportedFormat, match=f"a zip archive of {entries} entries"):
        detect_format(model_files.torchscript)


def test_zip64_directory_size_is_read_from_its_own_record(tmp_path: Path) -> None:
    """Past 65,535 entries the counts live in the zip64 end record."""
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(65_600):
            archive.writestr(f"m/e{i}", b"")
    assert archives._directory_size(path)[0] == 65_600
    with pytest.raises(UnsupportedFormat, match=r"not a TorchScript or torch\.export"):
        detect_format(path)


def test_safetensors_header_over_the_cap_is_refused(tmp_path: Path) -> None:
    header = json.dumps({"__metadata__": {"pad": "x" * SAFETENSORS_MAX_HEADER}}).encode()
    path = tmp_path / "model.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    start = time.perf_counter()
    with pytest.raises(UnsupportedFormat, match="safetensors header of"):
        detect_format(path)
    assert time.perf_counter() - start < 1
