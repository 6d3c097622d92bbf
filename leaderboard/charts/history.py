"""The error-rate history of a challenge: years on x, error (%) on y.

Every scored submission is a point, spread across its year's band by when it was submitted (in
an edition with more than ``CLOUD_CAP`` of them, each team's entry on its board stands for the
team's entries: the chart's subtitle and table say so);
the record (the best entry so far, edition winners and baselines alike) is a step line that
never gets worse, and each year's best is a point on or above it; our baselines are labelled
markers at the year of their paper; results reported in papers on the challenge's own data
set (its reported results, never another set's) are a separate, dashed series that the legend
toggles. Buttons switch between the registry's metrics (the
challenge's ranking one first; one that only some scores have, such as the robust error of the
robustness track, once anything has it: whether the deeper networks also became more robust)
and between linear and log. The same values, for every metric, are the chart's table.
"""

from __future__ import annotations

from collections.abc import Mapping

from leaderboard.metrics import METRICS, metric_get
from leaderboard.selectors.history import CLOUD_CAP, History, HistoryPoint

from .base import (
    BLUE,
    BLUE_LIGHT,
    GREEN,
    ORANGE,
    Chart,
    ChartTable,
    Figure,
    cell,
    chart,
    layout,
    percent,
    scatter,
)

# Points of year Y fill [Y - BAND, Y + BAND] in submission order.
BAND = 0.38


def history_chart(
    *,
    history: History,
    points: list[HistoryPoint],
    baseline_facts: Mapping[str, str] | None = None,
) -> Chart:
    """The figure; its traces are named "Submissions", "Best so far", "Best of each year",
    "Baselines (trained by us)" and "Reported on <the challenge's data set> (...)".
    ``baseline_facts``: by method name, what a baseline's marker and table row say beside its
    error (its depth, parameters and measured images per second: ``baseline_zoo_facts``)."""
    facts = baseline_facts or {}
    metrics = _metrics(history, points)
    ys: dict[str, list[list]] = {metric: [] for metric, _ in metrics}
    traces = []

    # The one trace that grows with submissions: its arrays are attached after serialising.
    cloud = {
        "x": [round(p.year - BAND + 2 * BAND * p.fraction, 4) for p in points],
        "customdata": [
            [p.team or "", p.method, p.created_at.isoformat(" ", "minutes")[:16], p.submission_id]
            for p in points
        ],
    }
    cloud_ys = {metric: [percent(getattr(p, metric)) for p in points] for metric, _ in metrics}
    for metric, _ in metrics:
        ys[metric].append([])  # filled in below
    traces.append(
        scatter(
            name="Submissions",
            mode="markers",
            marker={
                "size": 7,
                "color": BLUE_LIGHT,
                "opacity": 0.8,
                "line": {"width": 1, "color": BLUE},
            },
            hovertemplate="%{customdata[0]} · %{customdata[1]}<br>%{customdata[2]}"
            "<br>%{y:.2f}%<extra>submission</extra>",
        )
    )

    steps = {metric: _best_per_year(history, metric) for metric, _ in metrics}
    step_years = sorted({year for by_year in steps.values() for year in by_year})
    step_x = [year - 0.5 for year in step_years] + ([step_years[-1] + 0.5] if step_years else [])
    for metric, _ in metrics:
        record = _record(metric, [steps[metric].get(year) for year in step_years])
        values = [percent(value) for value in record]
        ys[metric].append(values + values[-1:])
    traces.append(
        scatter(
            name="Best so far",
            x=step_x,
            mode="lines",
            line={"shape": "hv", "color": BLUE, "width": 2.5},
            hovertemplate="record: %{y:.2f}%<extra></extra>",
        )
    )
    for metric, _ in metrics:
        ys[metric].append([percent(steps[metric].get(year)) for year in step_years])
    traces.append(
        scatter(
            name="Best of each year",
            x=step_years,
            mode="markers",
            marker={"size": 9, "color": "#fff", "line": {"width": 2, "color": BLUE}},
            hovertemplate="best of %{x}: %{y:.2f}%<extra></extra>",
        )
    )

    baselines = [entry for row in history.years for entry in row.baselines]
    reported_years = [r.year for row in history.years for r in row.reported]
    for metric, _ in metrics:
        ys[metric].append([percent(getattr(b, metric)) for b in baselines])
    traces.append(
        scatter(
            name="Baselines (trained by us)",
            x=[b.year for b in baselines],
            mode="markers+text",
            text=[b.method for b in baselines],
            # Neighbouring papers (VGG 2014, ResNet 2015) would print over each other; at the
            # axis ends the labels lean inwards, so the chart's edge cuts none off.
            textposition=_label_sides(
                [b.year for b in baselines],
                every=[*(p.year for p in points), *(b.year for b in baselines), *reported_years],
            ),
            textfont={"size": 12, "color": GREEN},
            marker={
                "symbol": "diamond",
                "size": 11,
                "color": GREEN,
                "line": {"width": 1, "color": "#fff"},
            },
            customdata=[[b.method, b.submission_id, facts.get(b.method, "")] for b in baselines],
            hovertemplate="%{customdata[0]} (%{x})<br>%{y:.2f}%<br>%{customdata[2]}"
            "<extra>baseline</extra>",
        )
    )

    reported = [r for row in history.years for r in row.reported]
    for metric, _ in metrics:  # papers report no robust error: that view leaves them out
        field = metric_get(metric).field  # papers report top-5/top-1 only
        ys[metric].append([percent(getattr(r, field, None)) for r in reported])
    traces.append(
        scatter(
            name=f"{reported_label(history)} (published, not scored here)",
            x=[r.year for r in reported],
            mode="markers",  # several results of one year would be joined by a vertical line
            marker={"symbol": "circle-open", "size": 9, "color": ORANGE, "line": {"width": 2}},
            customdata=[[r.team, r.method, r.source] for r in reported],
            hovertemplate="%{customdata[0]} · %{customdata[1]} (%{x})<br>%{y:.2f}% reported"
            "<br><i>%{customdata[2]}</i><extra>reported</extra>",
        )
    )

    primary = history.metric
    labels = dict(metrics)
    order = tuple(labels)  # the ranking metric first
    fig = Figure(traces)
    for trace, values in zip(fig.data, ys[primary], strict=True):
        trace["y"] = values
    fig.update_layout(
        **layout(x_title="Year", y_title=f"{labels[primary]} (%)", height=460),
        updatemenus=[
            _buttons(
                [
                    (labels[m], "update", [{"y": ys[m]}, {"yaxis.title.text": f"{labels[m]} (%)"}])
                    for m in order
                ],
                x=0.0,
            ),
            _buttons(
                [
                    ("Linear", "relayout", [{"yaxis.type": "linear"}]),
                    ("Log", "relayout", [{"yaxis.type": "log"}]),
                ],
                x=_after(labels[m] for m in order),
            ),
        ],
    )
    # The legend under the axis: above it, its rows (a data set's long name makes two) would
    # run into the metric buttons.
    fig.update_layout(
        height=520,
        margin={"t": 90, "b": 120},
        legend={"y": -0.16, "yanchor": "top", "x": 0, "xanchor": "left"},
    )
    _year_axis(
        fig, [*(p.year for p in points), *(b.year for b in baselines), *(r.year for r in reported)]
    )
    fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    built = chart(
        element_id="chart-history",
        title="Error rate by year",
        fig=fig,
        filename=f"{history.challenge.slug}-error-history",
        empty=not (points or baselines or reported),
        subtitle=_subtitle(points),
        arrays={0: {**cloud, "y": cloud_ys[primary]}},
        summary=_summary(history, metrics, step_years, ys[primary][1], points, baselines, reported),
        table=_table(
            history, metrics, ys, cloud_ys, step_years, points=points, baselines=baselines,
            reported=reported, facts=facts,
        ),
    )  # fmt: skip
    switch = built.figure["layout"]["updatemenus"][0]["buttons"]
    for button, metric in zip(switch, order, strict=True):
        button["args"][0]["y"][0] = cloud_ys[metric]
    return built


def _label_sides(years: list[int], *, every: list[int]) -> list[str]:
    """Each baseline label's side: right of its marker in the first quarter of the years
    plotted (``every``), left in the last quarter, alternating between (neighbours apart)."""
    first = min(every, default=0)
    span = (max(every, default=0) - first) or 1
    sides = []
    for i, year in enumerate(years):
        at = (year - first) / span
        side = "right" if at < 0.25 else "left" if at > 0.75 else "left" if i % 2 else "right"
        sides.append(f"top {side}")
    return sides


def _subtitle(points: list[HistoryPoint]) -> str:
    """What the cloud leaves out, where it leaves anything out."""
    crowded = sorted({p.year for p in points if p.per_team})
    if not crowded:
        return ""
    years = ", ".join(str(year) for year in crowded)
    return (
        f"{years}: more than {CLOUD_CAP:,} scored submissions, so each team is one point there, "
        f"its entry on the board (the first {CLOUD_CAP:,} teams)."
    )


def reported_label(history: History) -> str:
    """What the reported series is: results published on this challenge's data set."""
    return f"Reported on {history.challenge.title}"


def _summary(
    history: History,
    metrics: tuple[tuple[str, str], ...],
    step_years: list[int],
    record: list[float | None],
    points: list[HistoryPoint],
    baselines: list,
    reported: list,
) -> str:
    """One sentence for a screen reader: the span, where the record went, what is plotted."""
    years = [*(p.year for p in points), *(b.year for b in baselines), *(r.year for r in reported)]
    if not years:
        return f"Error rate by year for {history.challenge.title}: nothing plotted yet."
    text = f"Error rate by year for {history.challenge.title}, {min(years)} to {max(years)}"
    pairs = zip(step_years, record, strict=False)  # the record's last value is repeated
    held = [(year, value) for year, value in pairs if value is not None]
    if held:
        label = dict(metrics)[history.metric].lower()
        (first_year, first), last = held[0], held[-1][1]
        set_in = next(year for year, value in held if value == last)  # when it was reached
        text += f": the record {label} went from {cell(first)} in {first_year}"
        text += f" to {cell(last)}, set in {set_in}"
    drawn = f"{len(points)} scored submissions"
    if any(p.per_team for p in points):
        drawn += f" (each team's entry where an edition has more than {CLOUD_CAP:,})"
    return (
        f"{text}; {drawn}, {len(baselines)} baselines trained here, "
        f"{len(reported)} results reported on {history.challenge.title} (published)."
    )


def _table(
    history: History,
    metrics: tuple[tuple[str, str], ...],
    ys: dict[str, list[list]],
    cloud_ys: dict[str, list],
    step_years: list[int],
    *,
    points: list[HistoryPoint],
    baselines: list,
    reported: list,
    facts: Mapping[str, str],
) -> ChartTable:
    """Year by year, each series' plotted values in every metric the buttons switch between:
    the submissions (their number and range), each year's best, the record, each baseline and
    each reported result with its source."""
    keys = [metric for metric, _ in metrics]
    rows: list[tuple[int, int, tuple[str, ...]]] = []  # (year, series order, cells)

    def add(year: int, order: int, series: str, entry: str, values, source: str = "") -> None:
        rows.append((year, order, (str(year), series, entry, *values, source)))

    for year in sorted({p.year for p in points}):
        at = [i for i, p in enumerate(points) if p.year == year]
        ranges = []
        for metric in keys:
            values = [cloud_ys[metric][i] for i in at if cloud_ys[metric][i] is not None]
            low, high = (min(values), max(values)) if values else (None, None)
            ranges.append(cell(low) if low == high else f"{cell(low)} to {cell(high)}")
        per_team = sum(1 for i in at if points[i].per_team)
        drawn = f"{len(at) - per_team} scored" if per_team < len(at) else ""
        if per_team:  # a crowded edition: its teams' entries on the board
            crowded = f"{per_team} teams' entries on the board (over {CLOUD_CAP:,} scored; "
            crowded += f"the first {CLOUD_CAP:,} teams)"
            drawn = f"{drawn} and {crowded}" if drawn else crowded
        add(year, 0, "Submissions", drawn, ranges)
    for i, year in enumerate(step_years):
        add(year, 1, "Best of the year", "", [cell(ys[m][2][i]) for m in keys])
        add(year, 2, "Best so far (record)", "", [cell(ys[m][1][i]) for m in keys])
    for i, b in enumerate(baselines):
        entry = f"{b.method} ({facts[b.method]})" if facts.get(b.method) else b.method
        add(b.year, 3, "Baseline (trained by us)", entry, [cell(ys[m][3][i]) for m in keys])
    for i, r in enumerate(reported):
        entry = f"{r.team} · {r.method}" if r.method else r.team
        values = [cell(ys[m][4][i]) for m in keys]
        add(r.year, 4, f"{reported_label(history)} (published)", entry, values, r.source)
    rows.sort(key=lambda row: row[:2])  # stable: each series keeps its own order
    labels = dict(metrics)
    return ChartTable(
        caption=f"Error rate by year, {history.challenge.title}: the values the chart plots",
        columns=("Year", "Series", "Entry", *(f"{labels[m]}" for m in keys), "Source"),
        rows=tuple(row for _, _, row in rows),
        numeric=frozenset(range(3, 3 + len(keys))),
    )


def _metrics(history: History, points: list[HistoryPoint]) -> tuple[tuple[str, str], ...]:
    """(key, label) of the metrics to switch between: the ranking one first, then the registry's
    others in order; one that not every score has (a track's, one added later) only once some
    entry of the challenge has it."""
    entries = [*points, *(b for row in history.years for b in row.baselines)]
    editions = [e for row in history.years for e in row.editions]

    def offered(metric) -> bool:
        return (
            metric.key == history.metric
            or metric.required
            or any(getattr(e, metric.key) is not None for e in entries)
            or any(getattr(e, f"best_{metric.key}") is not None for e in editions)
        )

    ranked = metric_get(history.metric)
    ordered = [ranked, *(m for m in METRICS if m != ranked)]
    return tuple((m.key, m.label) for m in ordered if offered(m))


def _after(labels) -> float:
    """Where the next group of buttons starts: past buttons with these labels, at about 0.0095
    of the plot's width per character plus padding (two metrics: 0.31, three: 0.46)."""
    return 0.02 + sum(0.04 + 0.0095 * len(label) for label in labels)


def _year_axis(fig: Figure, years: list[int]) -> None:
    """Whole years on x, one tick every 1, 2, 5 or 10 years depending on the span."""
    fig.update_xaxes(tickformat="d", tick0=0)
    if not years:
        return
    first, last = min(years), max(years)
    span = last - first
    step = next((s for s in (1, 2, 5, 10) if span <= 12 * s), 20)
    fig.update_xaxes(range=[first - 0.6, last + 0.6], dtick=step)


def _best_per_year(history: History, metric: str) -> dict[int, float]:
    """The best value we computed in each year: edition winners' rows and baselines."""
    declared = metric_get(metric)
    best: dict[int, float] = {}
    for row in history.years:
        values = [getattr(e, f"best_{metric}") for e in row.editions]
        values += [getattr(b, metric) for b in row.baselines]
        if (value := declared.best(values)) is not None:
            best[row.year] = value
    return best


def _record(metric: str, values: list[float | None]) -> list[float | None]:
    """The best value so far at each position (None until the first), better by the metric's
    direction: the record never gets worse, whatever a later year's best."""
    declared = metric_get(metric)
    best, out = None, []
    for value in values:
        best = declared.best([best, value])
        out.append(best)
    return out


def _buttons(items: list[tuple[str, str, list]], *, x: float) -> dict:
    return {
        "type": "buttons",
        "direction": "right",
        "showactive": True,
        "x": x,
        "xanchor": "left",
        "y": 1.22,
        "yanchor": "top",
        "pad": {"r": 4, "t": 0},
        "bgcolor": "#f9fafb",
        "bordercolor": "#d0d5dd",
        "font": {"size": 12},
        "buttons": [
            {"label": label, "method": method, "args": args} for label, method, args in items
        ],
    }
