"""Read what a page embeds for a chart: its figure JSON and its "Show as table" alternative."""

from __future__ import annotations

import html
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser


def figure(body: str, element_id: str) -> dict:
    """The figure JSON a page embeds for one chart (what charts.js hands to plotly.js)."""
    match = re.search(
        rf'<script id="{element_id}-figure" type="application/json">(.*?)</script>', body, re.S
    )
    assert match, f"no figure for {element_id}"
    return json.loads(match.group(1))


class _Tables(HTMLParser):
    """Every <table>'s caption, header cells (with their scope) and body rows, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._row: list[tuple[str, str, str]] | None = None  # (tag, scope, text)
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"caption": "", "head": [], "rows": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = []
            self._scope = attrs.get("scope", "")

    def handle_endtag(self, tag):
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("th", "td") and self._cell is not None and self._row is not None:
            self._row.append((tag, self._scope, " ".join("".join(self._cell).split())))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[-1]
            if all(tag == "th" and scope == "col" for tag, scope, _ in self._row):
                table["head"] = self._row
            else:
                table["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        for part in (self._cell, self._caption):
            if part is not None:
                part.append(data)


def chart_table(body: str, element_id: str) -> list[dict[str, str]]:
    """The chart's table alternative as one dict per row (column header -> cell text).

    Checks the markup a screen reader relies on: behind a "Show as table" toggle, a caption,
    ``<th scope="col">`` headers and a ``<th scope="row">`` first cell in each row; and the plot's
    ``role="img"`` with a non-empty ``aria-label``.
    """
    plot = re.search(rf'<div class="chart" id="{element_id}"[^>]*>', body)
    assert plot, f"no plot div for {element_id}"
    assert 'role="img"' in plot.group(0)
    label = re.search(r'aria-label="([^"]+)"', plot.group(0))
    assert label and label.group(1).strip(), f"{element_id} has no accessible summary"
    match = re.search(
        rf'<details class="chart-table" id="{element_id}-table">(.*?)</details>', body, re.S
    )
    assert match, f"no table alternative for {element_id}"
    assert "<summary>Show as table" in match.group(1)
    parser = _Tables()
    parser.feed(match.group(1))
    (table,) = parser.tables
    assert table["caption"], f"{element_id}'s table has no caption"
    columns = [text for _, _, text in table["head"]]
    assert columns, f"{element_id}'s table has no header row"
    rows = []
    for row in table["rows"]:
        assert row[0][:2] == ("th", "row"), row
        assert len(row) == len(columns), (columns, row)
        cells = zip(columns, row, strict=True)
        rows.append({column: html.unescape(text) for column, (_, _, text) in cells})
    return rows


def aria_label(body: str, element_id: str) -> str:
    """The plot's accessible name, unescaped."""
    plot = re.search(rf'<div class="chart" id="{element_id}"[^>]*>', body)
    assert plot
    return html.unescape(re.search(r'aria-label="([^"]+)"', plot.group(0)).group(1))


def pct(value: float | None) -> str:
    """A plotted percentage as a table should print it: two decimals, half up ("16.42%")."""
    if value is None:
        return "\u2013"
    return f"{Decimal(repr(float(value))).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"
