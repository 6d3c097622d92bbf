"""Which model format an uploaded file is, decided by the evaluator's own detector.

The web process checks an upload with the same code the worker will use, so a file refused
here would have been refused there, with the same message.
"""

from __future__ import annotations

from pathlib import Path

from evaluator.errors import PickleRefused, UnsupportedFormat
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import detect_format
from evaluator.formats.onnx_io import check_upload
from evaluator.spec import InputSpec

__all__ = ["ModelFormat", "PickleRefused", "UnsupportedFormat", "detect_format", "model_io_check"]


def model_io_check(path: Path, *, fmt: str, input_spec: dict, num_classes: int) -> str | None:
    """How the scorer will feed and read an ONNX upload, from its header alone ("input 'X'
    [N, 784] fed flat (...); output 'probabilities'"), or UnsupportedFormat saying what to
    change when it never could. None for other formats, a challenge without its set yet, or a
    graph too large to read in a web request (the worker decides it with the same rules)."""
    if fmt != ModelFormat.ONNX or not input_spec or num_classes < 1:
        return None
    spec = InputSpec.from_dict(input_spec)
    plan = check_upload(Path(path), spec=spec, num_classes=num_classes)
    return plan.describe() if plan is not None else None
