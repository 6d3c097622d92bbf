"""The input layout and output of an ONNX model, read from its header (``formats.onnx_io``), and
the loader and inference loop feeding the model that way.

The models are built with ``onnx.helper`` in the layouts exporters write: channels first
(torch.onnx.export), channels last (tf2onnx: a Transpose to NCHW in front of the same ops),
flat (skl2onnx), with several outputs (a label, logits, probabilities). Twins share their
weights, so the layouts must give the very same logits.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from evaluator.errors import UnsupportedFormat
from evaluator.formats.base import ModelFormat
from evaluator.formats.loaders import load_model
from evaluator.formats.onnx_io import check_upload, model_input_layout, plan_onnx_io
from evaluator.inference import run_inference
from evaluator.spec import InputSpec
from tests.evaluator.protobuf_bytes import write_crafted_onnx

pytestmark = pytest.mark.timeout(120)

# Channels, height and width all differ, so a wrong transpose or flattening order shows.
SPEC = InputSpec(channels=3, height=6, width=10)
CLASSES = 10


def layout_dims(layout: str, spec: InputSpec = SPEC) -> list:
    """The input shape each exporter declares: torch channels first, tf2onnx last, skl2onnx flat."""
    c, h, w = spec.channels, spec.height, spec.width
    return {"nchw": ["N", c, h, w], "nhwc": ["N", h, w, c], "flat": ["N", c * h * w]}[layout]


def linear_model(
    path: Path,
    *,
    layout: str = "nchw",
    dims: list | None = None,
    outputs: tuple[tuple[str, str], ...] = (("logits", "logits"),),
    spec: InputSpec = SPEC,
    classes: int = CLASSES,
    input_type: int = TensorProto.FLOAT,
    ir_version: int = 8,
) -> Path:
    """Flatten (C, H, W order) then Gemm, with the same seeded weights whatever the layout:
    channels last adds a Transpose to NCHW in front, flat starts at the Gemm.

    ``outputs`` are (name, source) pairs, source one of "logits", "probabilities" (Softmax)
    and "label" (ArgMax, int64 [N])."""
    features = spec.channels * spec.height * spec.width
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(features, classes)).astype(np.float32)
    bias = rng.normal(size=classes).astype(np.float32)
    nodes = []
    x = "image"
    if layout == "nhwc":
        nodes.append(helper.make_node("Transpose", [x], ["nchw"], perm=[0, 3, 1, 2]))
        x = "nchw"
    if layout != "flat":
        nodes.append(helper.make_node("Flatten", [x], ["flat"], axis=1))
        x = "flat"
    nodes += [
        helper.make_node("Gemm", [x, "W", "B"], ["scores_raw"]),
        helper.make_node("Softmax", ["scores_raw"], ["softmax"], axis=1),
        helper.make_node("ArgMax", ["scores_raw"], ["argmax"], axis=1, keepdims=0),
    ]
    source = {"logits": "scores_raw", "probabilities": "softmax", "label": "argmax"}
    declared = []
    for name, kind in outputs:
        nodes.append(helper.make_node("Identity", [source[kind]], [name]))
        if kind == "label":
            declared.append(helper.make_tensor_value_info(name, TensorProto.INT64, ["N"]))
        else:
            declared.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", classes]))
    initializers = [
        helper.make_tensor("W", TensorProto.FLOAT, weight.shape, weight.ravel()),
        helper.make_tensor("B", TensorProto.FLOAT, bias.shape, bias),
    ]
    inputs = [helper.make_tensor_value_info("image", input_type, dims or layout_dims(layout, spec))]
    if ir_version < 4:  # old exporters list the stored weights among the inputs
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, t.dims) for t in initializers]
    graph = helper.make_graph(nodes, "linear", inputs, declared, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = ir_version
    onnx.save(model, str(path))
    return path


def declared_only(path: Path, *, inputs: list, outputs: list) -> Path:
    """A graph that only declares inputs and outputs: what the header reader sees."""
    nodes = [helper.make_node("Identity", [inputs[0].name], ["unused"])]
    graph = helper.make_graph(nodes, "declared", inputs, outputs)
    onnx.save(helper.make_model(graph), str(path))
    return path


def image_input(dims: list | None, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("image", elem, dims)


def zipmap_output(name: str = "output_probability") -> onnx.ValueInfoProto:
    value = helper.make_tensor_type_proto(TensorProto.FLOAT, [])
    maps = helper.make_map_type_proto(TensorProto.INT64, value)
    return helper.make_value_info(name, helper.make_sequence_type_proto(maps))


def float_output(name: str, dims: list | None = None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims or ["N", CLASSES])


def plan(path: Path, spec: InputSpec = SPEC):
    return plan_onnx_io(path, spec=spec, num_classes=CLASSES)


def images(n: int = 37) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, size=(n, 3, 6, 10), dtype=np.uint8)


def logits_of(path: Path, spec: InputSpec = SPEC) -> np.ndarray:
    """The model loaded and run as the child runs it (batch 16: a smaller last batch too)."""
    model = load_model(
        path=path, fmt=ModelFormat.ONNX, arch=None, spec=spec, num_classes=CLASSES, device="cpu"
    )
    return run_inference(
        model=model,
        images=images(),
        spec=spec,
        num_classes=CLASSES,
        device="cpu",
        batch_size=16,
        precision="fp32",
    ).logits


# --- inputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["nchw", "nhwc", "flat"])
def test_each_layout_is_read_from_the_header(tmp_path: Path, layout: str) -> None:
    found = plan(linear_model(tmp_path / "m.onnx", layout=layout))
    assert (found.input_name, found.input_layout) == ("image", layout)
    assert (found.output_name, found.fixed_batch) == ("logits", None)
    path = tmp_path / "m.onnx"
    assert model_input_layout(path, fmt=ModelFormat.ONNX, spec=SPEC, num_classes=10) == layout


@pytest.mark.parametrize("layout", ["nhwc", "flat"])
def test_channels_last_and_flat_give_the_channels_first_twins_logits(
    tmp_path: Path, layout: str
) -> None:
    twin = logits_of(linear_model(tmp_path / "nchw.onnx"))
    adapted = logits_of(linear_model(tmp_path / f"{layout}.onnx", layout=layout))
    np.testing.assert_array_equal(adapted, twin)
    # Independent: the weights applied with numpy to the normalised, flattened images.
    w = onnx.numpy_helper.to_array(onnx.load(str(tmp_path / "nchw.onnx")).graph.initializer[0])
    b = onnx.numpy_helper.to_array(onnx.load(str(tmp_path / "nchw.onnx")).graph.initializer[1])
    x = (images().astype(np.float32) / 255 - np.array(SPEC.mean, np.float32)[:, None, None]) / (
        np.array(SPEC.std, np.float32)[:, None, None]
    )
    np.testing.assert_allclose(twin, x.reshape(len(x), -1) @ w + b, rtol=1e-4, atol=1e-4)


def test_a_static_batch_and_symbolic_sizes_are_kept(tmp_path: Path) -> None:
    fixed = plan(linear_model(tmp_path / "a.onnx", layout="nhwc", dims=[4, 6, 10, 3]))
    assert (fixed.input_layout, fixed.fixed_batch) == ("nhwc", 4)
    symbolic = plan(linear_model(tmp_path / "b.onnx", layout="nhwc", dims=["N", "h", "w", 3]))
    assert symbolic.input_layout == "nhwc"  # channels last: the only reading of a last dim of 3
    np.testing.assert_array_equal(logits_of(tmp_path / "a.onnx"), logits_of(tmp_path / "b.onnx"))


@pytest.mark.parametrize(
    ("dims", "layout"),
    [(None, "nchw"), (["N", "c", "h", "w"], "nchw"), (["N", "features"], "flat")],
    ids=["no-shape", "all-symbolic", "flat-symbolic"],
)
def test_undeclared_sizes_keep_the_old_reading(tmp_path: Path, dims, layout: str) -> None:
    path = declared_only(
        tmp_path / "m.onnx", inputs=[image_input(dims)], outputs=[float_output("y")]
    )
    assert plan(path).input_layout == layout


@pytest.mark.parametrize(
    "dims",
    [["N", 1, 28, 28], ["N", 6, 10], ["N", 181], ["N", 10, 6, 3], ["N", 3, 10, 6]],
    ids=["other-set", "rank-3", "wrong-features", "swapped-hw-last", "swapped-hw-first"],
)
def test_a_mismatched_input_is_refused_naming_its_shape_and_the_accepted_ones(
    tmp_path: Path, dims: list
) -> None:
    path = declared_only(
        tmp_path / "m.onnx", inputs=[image_input(dims)], outputs=[float_output("y")]
    )
    with pytest.raises(UnsupportedFormat) as info:
        plan(path)
    declared = "[" + ", ".join(str(d) for d in dims) + "]"
    assert f"m.onnx: the ONNX input 'image' is declared {declared}" in info.value.message
    for accepted in ("[N, 3, 6, 10] (channels first)", "[N, 6, 10, 3] (channels last)"):
        assert accepted in info.value.message
    assert "[N, 180] (flat, in C, H, W order)" in info.value.message
    assert info.value.code == "unsupported_format"


def test_an_input_readable_both_ways_is_refused(tmp_path: Path) -> None:
    cube = InputSpec(channels=3, height=3, width=3)
    path = declared_only(
        tmp_path / "m.onnx", inputs=[image_input(["N", 3, 3, 3])], outputs=[float_output("y")]
    )
    with pytest.raises(UnsupportedFormat, match=r"reads both as channels first \[N, 3, 3, 3\] and"):
        plan(path, spec=cube)


def test_a_non_float32_input_and_several_inputs_are_refused(tmp_path: Path) -> None:
    double = declared_only(
        tmp_path / "d.onnx",
        inputs=[image_input(["N", 180], TensorProto.DOUBLE)],
        outputs=[float_output("y")],
    )
    with pytest.raises(UnsupportedFormat, match="declared double; the scorer feeds float32"):
        plan(double)
    two = declared_only(
        tmp_path / "t.onnx",
        inputs=[image_input(["N", 180]), helper.make_tensor_value_info("mask", 1, ["N"])],
        outputs=[float_output("y")],
    )
    with pytest.raises(UnsupportedFormat, match=r"2 inputs \('image', 'mask'\); exactly one"):
        plan(two)


def test_weights_listed_among_the_inputs_are_not_inputs(tmp_path: Path) -> None:
    path = linear_model(tmp_path / "old.onnx", layout="flat", ir_version=3)
    assert [i.name for i in onnx.load(str(path)).graph.input] == ["image", "W", "B"]
    assert plan(path).input_name == "image"


# --- outputs -----------------------------------------------------------------------------------


def test_the_label_output_is_ignored(tmp_path: Path) -> None:
    """skl2onnx's order: the int64 label first, then the probabilities."""
    path = linear_model(
        tmp_path / "m.onnx", outputs=(("label", "label"), ("probs", "probabilities"))
    )
    assert plan(path).output_name == "probs"
    probs = logits_of(path)
    twin = logits_of(linear_model(tmp_path / "twin.onnx"))
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(probs.argmax(axis=1), twin.argmax(axis=1))  # same ranking


def test_a_preferred_name_breaks_a_tie(tmp_path: Path) -> None:
    outputs = (("label", "label"), ("probabilities", "probabilities"), ("head", "logits"))
    assert plan(linear_model(tmp_path / "m.onnx", outputs=outputs)).output_name == "probabilities"
    both = (("probabilities", "probabilities"), ("logits", "logits"))
    path = linear_model(tmp_path / "both.onnx", outputs=both)
    assert plan(path).output_name == "logits"
    np.testing.assert_array_equal(logits_of(path), logits_of(linear_model(tmp_path / "t.onnx")))


def test_two_neutral_candidates_are_refused_listing_the_outputs(tmp_path: Path) -> None:
    outputs = (("label", "label"), ("head_a", "logits"), ("head_b", "probabilities"))
    with pytest.raises(UnsupportedFormat) as info:
        plan(linear_model(tmp_path / "m.onnx", outputs=outputs))
    message = info.value.message
    listed = "('label' (int64 [N]), 'head_a' (float [N, 10]), 'head_b' (float [N, 10]))"
    assert f"the ONNX model has 3 outputs {listed}" in message
    assert "2 of them could be the class scores. Keep one" in message
    assert "logits, probabilities, output_probability, scores" in message


def test_zipmap_gets_its_own_message(tmp_path: Path) -> None:
    label = helper.make_tensor_value_info("output_label", TensorProto.INT64, ["N"])
    for outputs in ([label, zipmap_output()], [zipmap_output()]):
        path = declared_only(tmp_path / "m.onnx", inputs=[image_input(["N", 180])], outputs=outputs)
        with pytest.raises(UnsupportedFormat, match=r"export with `options=\{'zipmap': False\}`"):
            plan(path)


def test_no_output_of_the_right_shape_is_refused(tmp_path: Path) -> None:
    outputs = [helper.make_tensor_value_info("label", 7, ["N"]), float_output("p", ["N", 4])]
    path = declared_only(tmp_path / "m.onnx", inputs=[image_input(["N", 180])], outputs=outputs)
    with pytest.raises(UnsupportedFormat, match=r"none of the ONNX model's 2 outputs .* \[N, 10\]"):
        plan(path)


def test_a_single_output_is_used_and_checked_when_it_runs(tmp_path: Path) -> None:
    """Its declared shape may be wrong; the first batch says, with the scorer's own message."""
    path = declared_only(
        tmp_path / "m.onnx", inputs=[image_input(["N", 180])], outputs=[float_output("y", ["N", 4])]
    )
    assert plan(path).output_name == "y"


# --- the web request's bounded read ------------------------------------------------------------


def test_the_upload_check_reads_little_of_a_huge_graph(tmp_path: Path) -> None:
    """Two million nodes: past the web request's budget, left to the worker (None), quickly."""
    crafted = write_crafted_onnx(tmp_path / "crafted.onnx")
    started = time.perf_counter()
    assert check_upload(crafted, spec=SPEC, num_classes=CLASSES) is None
    assert time.perf_counter() - started < 0.5
    with pytest.raises(UnsupportedFormat, match=r"more than 500000 entries .* too large"):
        plan(crafted)  # where the model runs: refused


def test_a_damaged_graph_is_refused(tmp_path: Path) -> None:
    path = linear_model(tmp_path / "m.onnx")
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw[:-7]))  # the graph's end cut off
    with pytest.raises(UnsupportedFormat, match="inputs and outputs cannot be read"):
        plan(path)
