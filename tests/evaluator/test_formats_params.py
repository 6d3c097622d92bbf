"""The parent's count of stored values, read as data, against what torch and onnx load.

Each count is checked against an independent one: ``onnx.load`` and numpy over the parsed
protobuf, or the state_dict of the real network (distinct storages where weights are tied).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from evaluator.formats import params as params_module
from evaluator.formats.base import ModelFormat
from evaluator.formats.params import stored_values
from tests.evaluator.models import (
    ModelFiles,
    build,
    example_input,
    export_onnx,
    export_pt2,
    export_safetensors,
    export_torchscript,
)
from tests.evaluator.protobuf_bytes import field, varint, write_crafted_onnx

pytestmark = pytest.mark.timeout(300)
REPO = Path(__file__).resolve().parents[2]


def onnx_reference(path: Path) -> int:
    """numpy.prod(dims) over every tensor onnx.load finds: initializers, sparse initializers'
    values, node attribute tensors (Constant), subgraphs and local functions."""
    model = onnx.load(str(path), load_external_data=False)

    def graph_values(graph: onnx.GraphProto) -> int:
        total = sum(int(np.prod(t.dims)) for t in graph.initializer)
        total += sum(int(np.prod(s.values.dims)) for s in graph.sparse_initializer)
        return total + sum(node_values(node) for node in graph.node)

    def node_values(node: onnx.NodeProto) -> int:
        total = 0
        for attr in node.attribute:
            if attr.HasField("t"):
                total += int(np.prod(attr.t.dims))
            total += sum(int(np.prod(t.dims)) for t in attr.tensors)
            if attr.HasField("sparse_tensor"):
                total += int(np.prod(attr.sparse_tensor.values.dims))
            if attr.HasField("g"):
                total += graph_values(attr.g)
            total += sum(graph_values(g) for g in attr.graphs)
        return total

    functions = sum(node_values(n) for f in model.functions for n in f.node)
    return graph_values(model.graph) + functions


def state_dict_values(module: nn.Module) -> int:
    """Elements of the state_dict, each distinct tensor once (tied weights are one tensor)."""
    seen: dict[int, int] = {}
    for tensor in module.state_dict().values():
        seen[tensor.data_ptr()] = max(tensor.numel(), seen.get(tensor.data_ptr(), 0))
    return sum(seen.values())


class Tied(nn.Module):
    """Two layers sharing one weight, and a buffer: a value stored once is counted once."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)
        self.b.weight = self.a.weight
        self.register_buffer("scale", torch.ones(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x)) * self.scale


class WeightsAsBuffers(nn.Module):
    """A network whose weights are buffers: ``parameters()`` is empty, the file is not."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("w", torch.randn(10, 784))
        self.register_buffer("b", torch.zeros(10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.w.t() + self.b


@pytest.fixture(scope="module")
def lenet(tmp_path_factory) -> tuple[nn.Module, Path]:
    """The project's LeNet-5 baseline (exported with shape constants: Constant nodes)."""
    module = build("baseline-lenet5")
    path = tmp_path_factory.mktemp("lenet") / "lenet.onnx"
    return module, export_onnx(module, path, example=example_input())


def test_onnx_resnet18_counts_what_onnx_load_sees(model_files: ModelFiles) -> None:
    expected = onnx_reference(model_files.onnx)
    model = onnx.load(str(model_files.onnx))
    assert expected == sum(int(np.prod(t.dims)) for t in model.graph.initializer)  # no Constant
    assert stored_values(path=model_files.onnx, fmt=ModelFormat.ONNX) == expected


def test_onnx_lenet_counts_initializers_and_constant_nodes(lenet) -> None:
    module, path = lenet
    model = onnx.load(str(path))
    initializers = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    assert any(n.op_type == "Constant" for n in model.graph.node)
    assert onnx_reference(path) > initializers  # the exporter's shape constants are stored too
    assert stored_values(path=path, fmt=ModelFormat.ONNX) == onnx_reference(path)
    assert initializers == sum(p.numel() for p in module.parameters())


def _constant_model(*, tensors: list[onnx.TensorProto]) -> onnx.ModelProto:
    """Weights moved out of the initializers into Constant nodes, a sparse initializer and an
    If's subgraph: places a count of initializers alone would miss."""
    then = helper.make_graph(
        [helper.make_node("Constant", [], ["t"], value=tensors[1])],
        "then",
        [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [4, 4])],
    )
    other = helper.make_graph(
        [helper.make_node("Constant", [], ["e"], value=tensors[2])],
        "else",
        [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [4, 4])],
    )
    sparse = helper.make_sparse_tensor(
        numpy_helper.from_array(np.ones(3, np.float32), "sv"),
        numpy_helper.from_array(np.array([0, 5, 9], np.int64), "si"),
        [4, 4],
    )
    sparse.values.name = "S"
    graph = helper.make_graph(
        [
            helper.make_node("Constant", [], ["w"], value=tensors[0]),
            helper.make_node("Constant", [], ["cond"], value_int=1),
            helper.make_node("If", ["cond"], ["chosen"], then_branch=then, else_branch=other),
            helper.make_node("Add", ["w", "chosen"], ["sum"]),
            helper.make_node("Add", ["sum", "S"], ["out"]),
        ],
        "constants",
        [],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [4, 4])],
        sparse_initializer=[sparse],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_onnx_weights_in_constants_subgraphs_and_sparse_tensors_are_counted(tmp_path) -> None:
    tensors = [numpy_helper.from_array(np.full((4, 4), i, np.float32), f"c{i}") for i in range(3)]
    model = _constant_model(tensors=tensors)
    path = tmp_path / "constants.onnx"
    onnx.save(model, str(path))
    assert onnx_reference(path) == 3 * 16 + 3  # three Constant tensors, three non-zeros
    assert stored_values(path=path, fmt=ModelFormat.ONNX) == onnx_reference(path)


def test_onnx_a_tensor_split_over_two_fields_is_counted_as_protobuf_merges_it(tmp_path) -> None:
    """Two occurrences of a singular message field are one message: dims [3] and [4] give a
    [3, 4] tensor to every protobuf parser, 12 values, not 3 + 4."""
    attribute = helper.make_attribute("value", numpy_helper.from_array(np.zeros(3, np.float32)))
    extra = onnx.TensorProto(dims=[4])
    raw = attribute.SerializeToString() + field(5, extra.SerializeToString())
    node = helper.make_node("Constant", [], ["out"])
    node_raw = node.SerializeToString() + field(5, raw)
    graph = helper.make_graph([], "merged", [], [])
    graph_raw = field(1, node_raw) + graph.SerializeToString()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ClearField("graph")
    path = tmp_path / "merged.onnx"
    path.write_bytes(model.SerializeToString() + field(7, graph_raw))
    parsed = onnx.load(str(path))
    assert list(parsed.graph.node[0].attribute[0].t.dims) == [3, 4]
    assert stored_values(path=path, fmt=ModelFormat.ONNX) == onnx_reference(path) == 12


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", None),
        (b"\x08\x07", 0),  # a ModelProto with no graph stores nothing
        (b"\x08\x07\x3a\xff\xff\x03", None),  # a graph longer than the file
        (b"\x08\x07\x3b\x00", None),  # a group (wire type 3)
        (varint(8) + varint(7) + field(7, field(5, varint(8) + varint(2**64 - 1))), None),
    ],
    ids=["empty", "no-graph", "truncated", "group", "negative-dim"],
)
def test_onnx_malformed_gives_none(tmp_path, content: bytes, expected: int | None) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    assert stored_values(path=path, fmt=ModelFormat.ONNX) == expected


def test_onnx_declared_dims_with_no_data_behind_them_are_not_a_count(tmp_path) -> None:
    """A tensor can declare any shape; a file cannot store more than two values a byte."""
    tensor = onnx.TensorProto(dims=[10**6, 10**6], data_type=TensorProto.FLOAT, name="w")
    graph = helper.make_graph([], "g", [], [], initializer=[tensor])
    path = tmp_path / "declared.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert stored_values(path=path, fmt=ModelFormat.ONNX) is None


def test_onnx_count_work_is_bounded_on_millions_of_tiny_nodes(tmp_path) -> None:
    path = write_crafted_onnx(tmp_path / "crafted.onnx")
    start = time.perf_counter()
    assert stored_values(path=path, fmt=ModelFormat.ONNX) is None  # over the field budget
    assert time.perf_counter() - start < 10  # about a second on this box; generous when shared


def test_safetensors_counts_the_header(model_files: ModelFiles) -> None:
    expected = state_dict_values(model_files.module)
    assert stored_values(path=model_files.safetensors, fmt=ModelFormat.SAFETENSORS) == expected


def test_torchscript_resnet18_counts_its_storages(model_files: ModelFiles) -> None:
    expected = sum(t.numel() for t in model_files.module.state_dict().values())
    assert stored_values(path=model_files.torchscript, fmt=ModelFormat.TORCHSCRIPT) == expected


def test_torchscript_tied_weights_are_one_storage(tmp_path) -> None:
    module = Tied().eval()
    path = export_torchscript(module, tmp_path / "tied.torchscript")
    loaded = torch.jit.load(str(path))
    assert sum(t.numel() for t in loaded.state_dict().values()) == 64 * 2 + 8 * 3  # named twice
    assert stored_values(path=path, fmt=ModelFormat.TORCHSCRIPT) == state_dict_values(loaded)
    assert state_dict_values(loaded) == 64 + 8 * 3


def test_torchscript_traced_constants_are_counted(tmp_path, lenet) -> None:
    """A traced LeNet-5 keeps a tensor constant (the int64 2 its padding divides by) in
    constants.pkl, apart from its weights in data.pkl."""
    module, _onnx = lenet
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example_input())
    path = tmp_path / "lenet.torchscript"
    traced.save(str(path))
    assert "CONSTANTS.c0" in traced.code
    with zipfile.ZipFile(path) as archive:
        constant_bytes = sum(i.file_size for i in archive.infolist() if "/constants/" in i.filename)
    assert constant_bytes == 8  # one int64
    weights = sum(t.numel() for t in module.state_dict().values())
    assert stored_values(path=path, fmt=ModelFormat.TORCHSCRIPT) == weights + 1


def test_torchscript_weights_held_as_buffers_are_counted(tmp_path) -> None:
    module = WeightsAsBuffers().eval()
    assert sum(p.numel() for p in module.parameters()) == 0  # what the model would report
    path = export_torchscript(module, tmp_path / "buffers.torchscript")
    assert stored_values(path=path, fmt=ModelFormat.TORCHSCRIPT) == 7850


class _CreatesMarker:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_torchscript_hostile_pickle_is_walked_not_run(tmp_path, model_files: ModelFiles) -> None:
    """data.pkl replaced by a payload that runs code when unpickled: nothing runs."""
    marker = tmp_path / "marker"
    path = tmp_path / "hostile.torchscript"
    with zipfile.ZipFile(model_files.torchscript) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/data.pkl"):
                data = pickle.dumps(_CreatesMarker(marker), protocol=2)
            dst.writestr(info, data)
    assert stored_values(path=path, fmt=ModelFormat.TORCHSCRIPT) == 0  # names no storage
    assert not marker.exists()


def test_torchscript_storage_id_of_another_form_gives_none(tmp_path, model_files) -> None:
    path = tmp_path / "odd.torchscript"
    odd = (
        b"\x80\x02(X\x07\x00\x00\x00storagecbuiltins\nprint\nX\x01\x00\x00\x000"
        b"X\x03\x00\x00\x00cpuX\x01\x00\x00\x00xtQ."
    )  # ("storage", print, "0", "cpu", "x"): numel is not an integer
    with zipfile.ZipFile(model_files.torchscript) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, odd if info.filename.endswith("/data.pkl") else src.read(info))
    assert stored_values(path=path, fmt=ModelFormat.TORCHSCRIPT) is None


def test_torchscript_oversized_pickle_gives_none(monkeypatch, model_files: ModelFiles) -> None:
    monkeypatch.setattr(params_module, "MAX_PICKLE_BYTES", 100)
    assert stored_values(path=model_files.torchscript, fmt=ModelFormat.TORCHSCRIPT) is None


def test_torch_export_resnet18_counts_its_weights_config(model_files: ModelFiles) -> None:
    program = torch.export.load(str(model_files.pt2))
    expected = sum(t.numel() for t in program.state_dict.values())
    assert expected == sum(t.numel() for t in model_files.module.state_dict().values())
    assert stored_values(path=model_files.pt2, fmt=ModelFormat.TORCH_EXPORT) == expected


def test_torch_export_tied_weights_are_one_payload(tmp_path) -> None:
    module = Tied().eval()
    path = export_pt2(module, tmp_path / "tied.pt2", example=torch.randn(2, 8))
    program = torch.export.load(str(path))
    assert sum(t.numel() for t in program.state_dict.values()) == 64 * 2 + 8 * 3
    assert stored_values(path=path, fmt=ModelFormat.TORCH_EXPORT) == 64 + 8 * 3


def test_torch_export_lifted_constants_are_counted(tmp_path) -> None:
    class WithConstant(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(4, 3)
            self.table = torch.arange(12.0).reshape(3, 4)  # neither parameter nor buffer

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(x) + x @ self.table.t()

    module = WithConstant().eval()
    path = export_pt2(module, tmp_path / "constant.pt2", example=torch.randn(2, 4))
    program = torch.export.load(str(path))
    constants = sum(t.numel() for t in program.constants.values() if isinstance(t, torch.Tensor))
    assert constants == 12
    assert stored_values(path=path, fmt=ModelFormat.TORCH_EXPORT) == 12 + 15


def test_torch_export_without_a_readable_config_gives_none(tmp_path, model_files) -> None:
    path = tmp_path / "opaque.pt2"
    with zipfile.ZipFile(model_files.pt2) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("_constants_config.json"):
                data = b'{"config": {"obj": {"path_name": "opaque_obj_0", "use_pickle": true}}}'
            dst.writestr(info, data)
    assert stored_values(path=path, fmt=ModelFormat.TORCH_EXPORT) is None


def test_counting_never_imports_torch_or_onnx(model_files: ModelFiles, tmp_path) -> None:
    """Data only: the counts come from a process that has neither library loaded."""
    files = {
        "onnx": model_files.onnx,
        "torchscript": model_files.torchscript,
        "pt2": model_files.pt2,
        "safetensors": export_safetensors(model_files.module, tmp_path / "m.safetensors"),
    }
    script = (
        "import sys; from evaluator.formats.params import stored_values\n"
        "counts = [stored_values(path=p, fmt=f) for f, p in zip(sys.argv[1::2], sys.argv[2::2])]\n"
        "assert 'torch' not in sys.modules and 'onnx' not in sys.modules, sorted(sys.modules)\n"
        "print(counts)\n"
    )
    args = [str(x) for fmt, path in files.items() for x in (fmt, path)]
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert all(int(n) > 0 for n in done.stdout.strip("[]\n").split(", "))
