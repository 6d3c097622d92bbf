"""ImageNet (ILSVRC), reported: the published classification results by year, on their own.

The series is the story of the field on ImageNet's data, so it is drawn apart from every
challenge's chart (whose reported series are results on that challenge's own set). Each row is a
point (top-5 error; top-1 where the file has it); the record, the best so far, is a step line that
never gets worse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from leaderboard.services.references import ReferenceRow

from .base import BLUE, ORANGE, PURPLE, Chart, ChartTable, cell, chart, layout, percent

FIELDS = (("top5_error", "Top-5 error"), ("top1_error", "Top-1 error"))


@dataclass(frozen=True)
class RecordStep:
    """The record in one year: the best value reported so far, and who holds it."""

    year: int
    value: float  # a fraction
    holder: ReferenceRow
    previous: float | None  # the record before this year (None for the first year)


def record_steps(rows: Sequence[ReferenceRow], *, field: str) -> list[RecordStep]:
    """One step per year that has a value: the lowest error so far (it never rises), held by
    the row that set it."""

    def value(row: ReferenceRow) -> float:
        return getattr(row, field)

    steps: list[RecordStep] = []
    best: ReferenceRow | None = None
    for year in sorted({r.year for r in rows if getattr(r, field) is not None}):
        year_best = min(
            (r for r in rows if r.year == year and getattr(r, field) is not None), key=value
        )
        previous = value(best) if best else None
        if best is None or value(year_best) < value(best):
            best = year_best
        steps.append(RecordStep(year=year, value=value(best), holder=best, previous=previous))
    return steps


def largest_fall(steps: Sequence[RecordStep]) -> RecordStep | None:
    """The year whose new record fell furthest below the one before (ILSVRC: 2012's AlexNet)."""
    falls = [s for s in steps if s.previous is not None and s.value < s.previous]
    return max(falls, key=lambda s: (s.previous or 0.0) - s.value, default=None)


def imagenet_chart(*, rows: Sequence[ReferenceRow]) -> Chart:
    """The figure: a trace of points per error the file gives, and the record as a step line
    for each; its table lists every point with the record of its year."""
    traces = []
    records: dict[str, dict[int, float]] = {}
    shown = [(f, label) for f, label in FIELDS if any(getattr(r, f) is not None for r in rows)]
    for (field, label), colour in zip(shown, (ORANGE, PURPLE), strict=False):
        given = sorted((r for r in rows if getattr(r, field) is not None), key=_order(field))
        traces.append(
            go.Scatter(
                name=f"{label}, reported",
                x=[r.year for r in given],
                y=[percent(getattr(r, field)) for r in given],
                mode="markers",
                marker={"size": 10, "color": colour, "symbol": "circle-open", "line": {"width": 2}},
                customdata=[[r.team, r.method, r.source] for r in given],
                hovertemplate="%{customdata[0]} · %{customdata[1]} (%{x})<br>%{y:.2f}%"
                "<br><i>%{customdata[2]}</i><extra>reported</extra>",
            )
        )
        steps = record_steps(rows, field=field)
        records[field] = {s.year: percent(s.value) for s in steps}
        values = [percent(s.value) for s in steps]
        traces.append(
            go.Scatter(
                name=f"Record, {label.lower()} (best so far)",
                x=[s.year - 0.5 for s in steps] + [steps[-1].year + 0.5],
                y=values + values[-1:],
                mode="lines",
                line={"shape": "hv", "color": BLUE, "width": 2.5},
                hovertemplate="record: %{y:.2f}%<extra></extra>",
            )
        )
    fig = go.Figure(data=traces)
    fig.update_layout(**layout(x_title="Year", y_title="Error (%)", height=420))
    years = [r.year for r in rows]
    if years:
        fig.update_xaxes(range=[min(years) - 0.6, max(years) + 0.6], dtick=1)
    fig.update_xaxes(tickformat="d")
    fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    return chart(
        element_id="chart-imagenet",
        title="ImageNet (ILSVRC) classification, reported error by year",
        subtitle="Published results with their sources, not scored here.",
        fig=fig,
        filename="imagenet-ilsvrc-reported",
        empty=not rows,
        summary=_summary(rows, records),
        table=_table(rows, shown, records),
    )


def _order(field: str):
    return lambda r: (r.year, getattr(r, field), r.team)


def _summary(rows: Sequence[ReferenceRow], records: dict[str, dict[int, float]]) -> str:
    if not rows:
        return "ImageNet (ILSVRC), reported: no rows."
    years = sorted(records.get("top5_error") or next(iter(records.values()), {}))
    text = f"ImageNet (ILSVRC) classification results reported from {years[0]} to {years[-1]}"
    for field, label in FIELDS:
        if record := records.get(field):
            first, last = min(record), max(record)
            text += (
                f"; the record {label.lower()} fell from {cell(record[first])} in {first}"
                f" to {cell(record[last])} in {last}"
            )
    return text + "."


def _table(
    rows: Sequence[ReferenceRow],
    shown: list[tuple[str, str]],
    records: dict[str, dict[int, float]],
) -> ChartTable:
    ordered = sorted(rows, key=lambda r: (r.year, r.top5_error or 1.0, r.top1_error or 1.0))
    columns = ["Year", "Team", "Method"]
    columns += [f"{label}, reported" for _, label in shown]
    columns += [f"Record, {label.lower()}" for _, label in shown]
    return ChartTable(
        caption="ImageNet (ILSVRC): the reported values and the record the chart plots",
        columns=tuple(columns),
        rows=tuple(
            (
                str(r.year),
                r.team,
                r.method,
                *(cell(percent(getattr(r, field))) for field, _ in shown),
                *(cell(records[field].get(r.year)) for field, _ in shown),
            )
            for r in ordered
        ),
        numeric=frozenset(range(3, 3 + 2 * len(shown))),
    )
