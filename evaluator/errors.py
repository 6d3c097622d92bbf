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


def first_line(
    exc: BaseException, *, limit: int = 500, typed: bool = True, empty: str = "(no message)"
) -> str:
    """The exception's first line of text, for a one-line message that names the problem.

    ``typed`` puts the exception's class name first; ``empty`` stands in for a blank message;
    the whole is cut at ``limit`` characters (an exception's text may be anything, any size).
    """
    text = str(exc).strip()
    line = text.splitlines()[0] if text else empty
    return (f"{type(exc).__name__}: {line}" if typed else line)[:limit]


def whole_message(exc: BaseException, *, limit: int = 2000, typed: bool = True) -> str:
    """The exception's whole text on one line, for a message that must keep its last lines.

    A runtime's error often says what went wrong on its first line and with what on the next
    ones (onnxruntime: "Got invalid dimensions for input: x for the following indices", then
    "index: 1 Got: 3 Expected: 1"), so the lines are joined, not dropped; only beyond ``limit``
    characters is the text cut, and then it says so.
    """
    text = " ".join(" ".join(line.split()) for line in str(exc).splitlines() if line.strip())
    text = text or "(no message)"
    if typed:
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
