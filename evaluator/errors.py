"""Errors the evaluator raises on bad input.

Each carries a stable ``code`` (for the web site, the API and the CLI) and a message that names
the file and the problem, so that a participant can fix the model instead of guessing.
"""

from __future__ import annotations


class EvaluatorError(Exception):
    """Base class: something about the input (data set, model, limits) is wrong."""

    code = "evaluation_failed"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class DatasetError(EvaluatorError):
    """A source image set cannot be imported, or a compiled set is damaged."""

    code = "dataset_invalid"


class UnsupportedFormat(EvaluatorError):
    """The model file is none of the accepted formats."""

    code = "unsupported_format"


class PickleRefused(UnsupportedFormat):
    """The model file is a pickle; it is refused without ever being unpickled."""

    code = "pickle_refused"


class ModelLoadError(EvaluatorError):
    """The model file is in an accepted format but cannot be loaded."""

    code = "model_load_failed"


class ModelCheckError(EvaluatorError):
    """The model loads, but its outputs fail the pre-scoring checks (shape, finiteness...)."""

    code = "model_check_failed"


class ModelTimeout(EvaluatorError):
    """The model ran past the wall-clock limit."""

    code = "timeout"


class ModelMemoryError(EvaluatorError):
    """The model needed more memory than the cap allows."""

    code = "memory_limit"


class ModelCrashed(EvaluatorError):
    """The process running the model died (a signal, an abort) without a result."""

    code = "model_crashed"


class SandboxUnavailable(EvaluatorError):
    """The sandbox is mandatory here but bubblewrap cannot run."""

    code = "sandbox_unavailable"
