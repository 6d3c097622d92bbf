"""Plain-text tables and the one-line descriptions of submissions and errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any


def table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, right: set[int] = frozenset()
) -> str:
    """Columns padded to their widest cell; the columns in ``right`` aligned right (numbers)."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        padded = [
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


def error(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def when(value: str | None) -> str:
    """An ISO timestamp from the API as 'YYYY-MM-DD HH:MM' in the local time zone."""
    if not value:
        return "-"
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M")


def status_line(submission: dict) -> str:
    """'queued', 'running (attempt 2)', 'scored: top-5 error ...', 'failed: why [code]'."""
    state = submission["status"]
    if state == "running":
        return f"running (attempt {submission.get('attempts') or 1})"
    if state == "scored":
        shown = submission.get("errors") or {}
        return (
            f"scored: top-1 error {error(shown.get('top1_error'))}, "
            f"top-5 error {error(shown.get('top5_error'))} "
            f"({shown.get('phase') or 'public'} part of the test set)"
        )
    if state == "failed":
        why = submission.get("error_message") or "no reason recorded"
        code = submission.get("error_code")
        return f"failed: {why}" + (f" [{code}]" if code else "")
    return state


def method(row: dict) -> str:
    text = row.get("method_name") or ""
    if row.get("method_year"):
        text += f" ({row['method_year']})"
    if row.get("arch"):
        text += f" [{row['arch']}]"
    return text


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
