"""What every chart shares: the look, the export buttons, and the JSON the page embeds."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass

import plotly.graph_objects as go

from leaderboard.metrics import DASH, fixed

# The site's palette (site.css). Every colour that marks data is 3:1 or more against the white
# plot (WCAG 1.4.11); text is INK, or MUTED at 5.6:1.
INK, MUTED, GRID = "#1d2330", "#5e6878", "#eaecf0"
BLUE, BLUE_LIGHT, ORANGE, GREEN, PURPLE = "#2f5bea", "#6f8cee", "#d9480f", "#127a3d", "#7a5af8"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'


@dataclass(frozen=True)
class ChartTable:
    """The plotted values as a data table: the chart's text alternative ("Show as table").

    Each row's first cell is its header (``<th scope="row">``); cells are text, as the page
    prints them, built from the same values as the figure's traces.
    """

    caption: str
    columns: tuple[str, ...]  # the first heads the rows' header cells
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()  # indices of the columns aligned as numbers


@dataclass(frozen=True)
class Chart:
    """A figure for one ``<div>``: ``element_id`` names the div and its JSON script tag.

    ``summary`` is what a screen reader announces for the plot (its ``aria-label``); ``table``
    holds the plotted values for anyone who cannot see or hover the figure.
    """

    element_id: str
    title: str
    figure: dict  # {"data": [...], "layout": {...}, "config": {...}}
    empty: bool = False
    subtitle: str = ""  # what the chart shows and leaves out, under its title
    summary: str = ""
    table: ChartTable | None = None

    @property
    def label(self) -> str:
        """The plot's accessible name: its summary, else its title (never empty)."""
        return self.summary or self.title

    @property
    def script_id(self) -> str:
        return f"{self.element_id}-figure"

    @property
    def traces(self) -> dict[str, dict]:
        """Traces by name, for tests and for anyone reading the figure."""
        return {trace.get("name", ""): trace for trace in self.figure["data"]}


class Figure:
    """A figure built as the plain JSON that plotly's ``go.Figure(...).to_json()`` writes, with the
    same calls (``update_layout``, ``update_xaxes``, ``update_yaxes``: nested dicts merged into
    the layout) and traces as dicts (``scatter``, ``bar``), but without plotly's validators:
    they took about 12 ms a figure, most of a charts page's time. The tests read every chart
    back through plotly's own ``go.Figure`` and get the same JSON, so nothing here goes
    unchecked."""

    def __init__(self, data: Iterable[dict] = ()) -> None:
        self.data = list(data)
        self.layout: dict = {}

    def update_layout(self, **props) -> None:
        _merge(self.layout, props)

    def update_xaxes(self, **props) -> None:
        _merge(self.layout.setdefault("xaxis", {}), props)

    def update_yaxes(self, **props) -> None:
        _merge(self.layout.setdefault("yaxis", {}), props)

    def to_plotly_json(self) -> dict:
        return {"data": self.data, "layout": {**self.layout, "template": plotly_template()}}


def scatter(**props) -> dict:
    """A scatter trace, as ``go.Scatter(**props)`` writes it."""
    return {**props, "type": "scatter"}


def bar(**props) -> dict:
    """A bar trace, as ``go.Bar(**props)`` writes it."""
    return {**props, "type": "bar"}


@functools.cache
def plotly_template() -> dict:
    """Plotly's default template as ``go.Figure().to_json()`` embeds it in every figure (built
    once per process; the pages only read it)."""
    return json.loads(go.Figure().to_json())["layout"]["template"]


def _merge(into: dict, props: dict) -> None:
    """Plotly's update: nested dicts merged key by key, anything else replaced."""
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def layout(*, x_title: str, y_title: str, height: int = 420) -> dict:
    """A plain white layout with the site's font; legend on top, out of the way of the data."""
    axis = {"gridcolor": GRID, "zeroline": False, "linecolor": "#d0d5dd", "ticks": "outside"}
    return {
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 56, "b": 52},
        "font": {"family": FONT, "size": 13, "color": INK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "closest",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "xaxis": {**axis, "title": {"text": x_title}},
        "yaxis": {**axis, "title": {"text": y_title}},
    }


def config(*, filename: str) -> dict:
    """Plotly's mode bar: PNG download at twice the size (SVG is added by charts.js)."""
    return {
        "displaylogo": False,
        "responsive": True,
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
    }


def chart(
    *,
    element_id: str,
    title: str,
    fig: go.Figure | Figure,
    filename: str,
    empty: bool = False,
    arrays: dict[int, dict[str, list]] | None = None,
    subtitle: str = "",
    summary: str = "",
    table: ChartTable | None = None,
) -> Chart:
    """Freeze the figure as plain JSON types (what ``json_script`` will write into the page).

    ``arrays`` (trace index -> {"x": [...], ...}) are attached after plotly has built and
    checked everything else: the per-submission arrays are plain numbers and strings, and
    running 20,000 points through plotly's validators would take a second per page.
    """
    plain = fig.to_plotly_json() if isinstance(fig, Figure) else json.loads(fig.to_json())
    for index, values in (arrays or {}).items():
        plain["data"][index].update(values)
    return Chart(
        element_id=element_id,
        title=title,
        figure={
            "data": plain["data"],
            "layout": plain["layout"],
            "config": config(filename=filename),
        },
        empty=empty,
        subtitle=subtitle,
        summary=summary,
        table=table,
    )


def percent(value: float | None) -> float | None:
    """Errors are stored as fractions and drawn as percentages, rounded for the JSON."""
    return None if value is None else round(100.0 * value, 4)


def cell(value: float | None) -> str:
    """A plotted percentage as the pages print one: two decimals, rounded half up as the tables
    round ("16.42%"); a dash where there is none."""
    return DASH if value is None else f"{fixed(value, 2)}%"
