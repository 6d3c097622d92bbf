"""A tiny ONNX model (flatten, then one linear layer with fixed weights) for benchmarks whose
subject is everything around the model: the sandbox, the queue, the dispatch."""

from __future__ import annotations


def tiny_onnx(*, channels: int = 1, size: int = 8, classes: int = 4) -> bytes:
    """The serialised model for (N, ``channels``, ``size``, ``size``) inputs and ``classes``
    logits; running it costs microseconds, so a timing measures the rest."""
    from onnx import TensorProto, checker, helper

    features = channels * size * size
    weight = [0.01 * (i % 7) for i in range(features * classes)]
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["input"], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "W", "B"], ["logits"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", channels, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        initializer=[
            helper.make_tensor("W", TensorProto.FLOAT, [features, classes], weight),
            helper.make_tensor("B", TensorProto.FLOAT, [classes], [0.0] * classes),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    checker.check_model(model)
    return model.SerializeToString()
