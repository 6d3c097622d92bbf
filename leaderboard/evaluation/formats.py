"""Which model format an uploaded file is, decided by the evaluator's own detector.

The web process checks an upload with the same code the worker will use, so a file refused
here would have been refused there, with the same message.
"""

from __future__ import annotations

from evaluator.errors import PickleRefused, UnsupportedFormat
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import detect_format

__all__ = ["ModelFormat", "PickleRefused", "UnsupportedFormat", "detect_format"]
