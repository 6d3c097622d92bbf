"""A model's runtime error reaches the participant whole (issue 17, item 9): every line of it,
with the shape the model was fed, the shape its header declares and the shape it should return.
It was cut at its first line (onnxruntime's "for the following indices" and then nothing) or
at 300 characters (before onnxruntime's "Input shape:{...}, requested shape:{...}")."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from evaluator.errors import ModelCheckError, whole_message
from evaluator.scoring import score
from tests.evaluator.conftest import write_compiled_dataset

pytestmark = pytest.mark.timeout(120)


def reshape_model(path: Path, *, target: list[int]) -> Path:
    """Input [N, 1, 4, 4] reshaped to ``target``: 16 values a row do not fit [-1, 7]."""
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 4, 4])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])
    shape = helper.make_tensor("shape", TensorProto.INT64, [len(target)], target)
    node = helper.make_node("Reshape", ["input", "shape"], ["logits"])
    graph = helper.make_graph([node], "wrong_size", [x], [y], initializer=[shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_a_reshape_to_a_wrong_size_says_all_of_it(tmp_path: Path) -> None:
    dataset = write_compiled_dataset(tmp_path / "set", n=16, channels=1, height=4, width=4)
    with pytest.raises(ModelCheckError) as info:
        score(dataset_dir=dataset, model_path=reshape_model(tmp_path / "m.onnx", target=[-1, 7]))
    message = info.value.message
    assert info.value.code == "model_check_failed"
    assert "an input of shape [1, 1, 4, 4]" in message  # what the scorer fed it
    assert "its header declares [N, 1, 4, 4]" in message  # what the model says it takes
    assert "should return logits shaped [1, 10]" in message  # what the challenge expects
    # onnxruntime's own last words, past the first 300 characters.
    assert message.endswith("Input shape:{1,1,4,4}, requested shape:{-1,7}")
    assert "\n" not in message


def test_every_line_of_a_runtime_error_is_kept() -> None:
    exc = RuntimeError(
        "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for input: input "
        "for the following indices\n index: 1 Got: 3 Expected: 1\n Please fix either the "
        "inputs/outputs or the model."
    )
    assert whole_message(exc) == (
        "RuntimeError: [ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for "
        "input: input for the following indices index: 1 Got: 3 Expected: 1 Please fix either "
        "the inputs/outputs or the model."
    )


def test_only_a_huge_message_is_cut_and_says_so() -> None:
    text = whole_message(ValueError("x" * 5000), limit=100, typed=False)
    assert len(text) == 100 and text.endswith("\u2026")
    assert whole_message(ValueError("  "), typed=False) == "(no message)"
