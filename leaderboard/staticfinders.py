"""Plotly's JavaScript served from our own static files, so the charts work offline.

The ``plotly`` Python package ships the matching minified plotly.js; this finder exposes that
one file as ``leaderboard/vendor/plotly.min.js`` to ``runserver``, to WhiteNoise and to
``collectstatic`` (which hashes and compresses it in production). No CDN is ever contacted.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

PLOTLY_STATIC_PATH = "leaderboard/vendor/plotly.min.js"
_PREFIX, _NAME = PLOTLY_STATIC_PATH.rsplit("/", 1)


def plotly_js_path() -> Path:
    """Where the installed plotly package keeps its plotly.min.js."""
    return Path(str(resources.files("plotly") / "package_data" / _NAME))


class PlotlyFinder(BaseFinder):
    """Finds exactly one file: the installed plotly package's plotly.min.js."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(plotly_js_path().parent))
        self.storage.prefix = _PREFIX

    def check(self, **kwargs) -> list[CheckMessage]:
        if not plotly_js_path().is_file():
            return [Error(f"plotly.js not found at {plotly_js_path()}", id="leaderboard.E001")]
        return []

    def find(self, path: str, find_all: bool = False, **kwargs) -> str | list[str]:
        if path == PLOTLY_STATIC_PATH and plotly_js_path().is_file():
            found = str(plotly_js_path())
            return [found] if find_all else found
        return [] if find_all else None  # type: ignore[return-value]

    def list(self, ignore_patterns: list[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        if plotly_js_path().is_file():
            yield _NAME, self.storage
