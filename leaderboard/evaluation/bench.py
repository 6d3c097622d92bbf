"""The evaluator's benchmark model, for the site's own benchmarks (drain, dispatch, load)."""

from __future__ import annotations


def tiny_onnx(*, channels: int = 1, size: int = 8, classes: int = 4) -> bytes:
    """``evaluator.bench.tiny.tiny_onnx``: a flatten-and-linear ONNX model that costs nothing
    to run, so a timing measures the platform around it."""
    from evaluator.bench.tiny import tiny_onnx as build

    return build(channels=channels, size=size, classes=classes)
