"""CSV for the leaderboard: ``?format=csv`` or ``Accept: text/csv`` (text cells formula-safe)."""

from __future__ import annotations

import io
from typing import Any

from rest_framework import renderers

from leaderboard.csv_cells import DictWriter


class CSVRenderer(renderers.BaseRenderer):
    """A list of flat dicts; the columns (and their order) come from ``view.csv_columns``."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        view = (renderer_context or {}).get("view")
        columns = list(getattr(view, "csv_columns", None) or (data[0].keys() if data else []))
        out = io.StringIO()
        writer = DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
        return out.getvalue().encode(self.charset)
