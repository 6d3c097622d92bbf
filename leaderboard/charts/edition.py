"""An edition's charts: the high score over time, submissions per day, and accuracy against
model size and against throughput with the Pareto front."""

from __future__ import annotations

import datetime as dt
import math
import re

from leaderboard.metrics import metric_get
from leaderboard.models import Edition
from leaderboard.selectors.charts import DayStat, EfficiencyPoint

from .base import (
    BLUE,
    BLUE_LIGHT,
    GREEN,
    ORANGE,
    Chart,
    ChartTable,
    Figure,
    bar,
    cell,
    chart,
    layout,
    percent,
    scatter,
)
from .pareto import pareto_front

DAY_MS = 86_400_000  # plotly measures date axes in milliseconds


def progress_chart(*, edition: Edition, days: list[DayStat]) -> Chart:
    """The best public error so far (a step line) and each day's best (points)."""
    label = metric_get(edition.challenge.primary_metric).label
    x = [d.day.isoformat() for d in days]
    fig = Figure(
        [
            scatter(
                name="Best so far",
                x=x,
                y=[percent(d.best_so_far) for d in days],
                mode="lines+markers",
                line={"shape": "hv", "color": BLUE, "width": 2.5},
                marker={"size": 4, "color": BLUE},
                hovertemplate="%{x}: best so far %{y:.2f}%<extra></extra>",
            ),
            scatter(
                name="Best of the day",
                x=x,
                y=[percent(d.best) for d in days],
                mode="markers",
                marker={"size": 7, "color": BLUE_LIGHT},
                hovertemplate="%{x}: best of the day %{y:.2f}%<extra></extra>",
            ),
        ]
    )
    fig.update_layout(
        **layout(
            x_title=f"Day ({edition.time_zone})", y_title=f"Public {label.lower()} (%)", height=360
        )
    )
    fig.update_yaxes(ticksuffix="%", autorangeoptions={"minallowed": 0})  # never below 0%
    _day_axis(fig, days)
    record = [(d.day, percent(d.best_so_far)) for d in days if d.best_so_far is not None]
    summary = f"Best public {label.lower()} by day"
    if record:
        (first_day, first), (last_day, last) = record[0], record[-1]
        summary += (
            f", from {cell(first)} on {first_day:%b %-d} to {cell(last)} on {last_day:%b %-d}"
            f" ({len(days)} days with submissions)"
        )
    return chart(
        element_id="chart-progress",
        title="Best public score over time",
        fig=fig,
        filename=f"{edition.challenge.slug}-{edition.slug}-progress",
        empty=not any(d.best is not None for d in days),
        summary=summary + ".",
        table=ChartTable(
            caption=f"Public {label.lower()} by day ({edition.time_zone})",
            columns=("Day", "Best so far", "Best of the day"),
            rows=tuple(
                (d.day.isoformat(), cell(percent(d.best_so_far)), cell(percent(d.best)))
                for d in days
            ),
            numeric=frozenset({1, 2}),
        ),
    )


def activity_chart(*, edition: Edition, days: list[DayStat]) -> Chart:
    """Submissions per day, the scored part of them darker."""
    x = [d.day.isoformat() for d in days]
    fig = Figure(
        [
            bar(
                name="Scored",
                x=x,
                y=[d.scored for d in days],
                width=0.8 * DAY_MS,
                marker={"color": BLUE},
                hovertemplate="%{x}: %{y} scored<extra></extra>",
            ),
            bar(
                name="Not scored (queued, failed, hidden)",
                x=x,
                y=[d.submissions - d.scored for d in days],
                width=0.8 * DAY_MS,
                marker={"color": BLUE_LIGHT},
                hovertemplate="%{x}: %{y} other<extra></extra>",
            ),
        ]
    )
    fig.update_layout(
        **layout(x_title=f"Day ({edition.time_zone})", y_title="Submissions", height=320),
        barmode="stack",
    )
    # Whole submissions only: a tick a submission on a quiet board, plotly's round steps above.
    peak = max((d.submissions for d in days), default=0)
    fig.update_yaxes(rangemode="tozero", tickformat=",d", **({"dtick": 1} if peak <= 10 else {}))
    _day_axis(fig, days)
    total, scored = sum(d.submissions for d in days), sum(d.scored for d in days)
    summary = f"Submissions per day: {total} in all over {len(days)} days, {scored} scored"
    if days:
        busiest = max(days, key=lambda d: d.submissions)
        summary += f"; the busiest day {busiest.day:%b %-d} with {busiest.submissions}"
    return chart(
        element_id="chart-activity",
        title="Submissions per day",
        fig=fig,
        filename=f"{edition.challenge.slug}-{edition.slug}-submissions-per-day",
        empty=not days,
        summary=summary + ".",
        table=ChartTable(
            caption=(
                f"Submissions per day ({edition.time_zone}); not scored: queued, failed or hidden"
            ),
            columns=("Day", "Scored", "Not scored", "All"),
            rows=tuple(
                (d.day.isoformat(), *map(str, (d.scored, d.submissions - d.scored, d.submissions)))
                for d in days
            ),
            numeric=frozenset({1, 2, 3}),
        ),
    )


def _day_axis(fig: Figure, days: list[DayStat]) -> None:
    """Whole days on x: half a day of margin, one tick a day for short spans (never hours)."""
    fig.update_xaxes(type="date", tickformat="%b %-d")
    if not days:
        return
    first, last = days[0].day, days[-1].day
    margin = dt.timedelta(hours=12)
    start = dt.datetime.combine(first, dt.time()) - margin
    end = dt.datetime.combine(last, dt.time()) + margin
    fig.update_xaxes(range=[start.isoformat(), end.isoformat()])
    if (last - first).days <= 14:
        fig.update_xaxes(dtick=DAY_MS)


# x field, axis title, whether smaller is better, file name part, what a left-off point lacks.
EFFICIENCY = {
    "params": (
        "Parameters (values stored in the model file)",
        True,
        "params",
        "a size counted from the model file",
    ),
    "throughput": (
        "Throughput timed by the scoring worker (images/s, loading included)",
        False,
        "throughput",
        "a throughput timed by the worker",
    ),
}


def _teams_drawn(points: list[EfficiencyPoint]) -> int:
    return sum(not point.is_baseline for point in points)


def efficiency_chart(
    *, edition: Edition, points: list[EfficiencyPoint], x_field: str, phase: str
) -> Chart:
    """Top-1 accuracy against parameters or throughput (log x); the Pareto front as a step line.

    ``points`` are each team's best entry and every baseline (``selectors.edition_efficiency``),
    so the front is drawn over those: the subtitle says so, since a team's smaller but less
    accurate entry is not on the chart. A point without the figure (the selector keeps only
    what the platform measured, never a model's own claim) is left off the chart and its front,
    and the subtitle counts them. ``phase``: the part of the test set the accuracy is on.
    """
    x_title, lower_is_better, name, lacking = EFFICIENCY[x_field]
    usable = [p for p in points if getattr(p, x_field) is not None]
    left_off = len(points) - len(usable)
    traces, arrays = [], {}
    for is_baseline, trace_name, color, symbol in (
        (False, "Teams (best entry)", BLUE, "circle"),
        (True, "Baselines (trained by us)", GREEN, "diamond"),
    ):
        group = [p for p in usable if p.is_baseline == is_baseline]
        arrays[len(traces)] = {
            "x": [getattr(p, x_field) for p in group],
            "y": [percent(p.accuracy) for p in group],
            "customdata": [[p.team or "baseline", p.method, p.submission_id] for p in group],
            # Each baseline named beside its diamond (teams' points would be too many), the
            # labels leaning inwards at the axis ends; the full name is in the hover.
            **(
                {
                    "text": [_short_name(p.method) for p in group],
                    "textposition": _label_sides(
                        [getattr(p, x_field) for p in group],
                        every=[getattr(p, x_field) for p in usable],
                    ),
                }
                if is_baseline
                else {}
            ),
        }
        traces.append(
            scatter(
                name=trace_name,
                mode="markers+text" if is_baseline else "markers",
                textfont={"size": 11, "color": color},
                cliponaxis=False,
                marker={
                    "size": 8 if is_baseline else 7,
                    "color": color,
                    "symbol": symbol,
                    "opacity": 0.85,
                },
                hovertemplate="%{customdata[0]} · %{customdata[1]}<br>%{x:,.4~s}: %{y:.2f}%"
                "<extra></extra>",
            )
        )
    front = pareto_front(
        [(getattr(p, x_field), p.accuracy) for p in usable], lower_x_is_better=lower_is_better
    )
    traces.append(
        scatter(
            name="Pareto front",
            x=[getattr(usable[i], x_field) for i in front],
            y=[percent(usable[i].accuracy) for i in front],
            mode="lines",
            line={
                "shape": "hv" if lower_is_better else "vh",
                "color": ORANGE,
                "width": 2,
                "dash": "dot",
            },
            customdata=[[usable[i].submission_id] for i in front],
            hoverinfo="skip",
        )
    )
    fig = Figure(traces)
    fig.update_layout(**layout(x_title=x_title, y_title="Top-1 accuracy (%)", height=380))
    fig.update_xaxes(type="log")
    fig.update_yaxes(ticksuffix="%")
    what = "model size" if x_field == "params" else "throughput"
    on_front = set(front)
    n_baselines = sum(p.is_baseline for p in usable)
    column = "Parameters" if x_field == "params" else "Throughput (images/s)"
    return chart(
        element_id=f"chart-{name}",
        title=f"Accuracy against {'model size' if x_field == 'params' else 'throughput'}",
        subtitle=(
            f"One point per team, its most accurate entry (top-1, {phase} part), and one per "
            "baseline; the Pareto front is drawn over these points."
            + (
                f" The {_teams_drawn(points):,} most accurate of {points.teams:,} teams are drawn."
                if getattr(points, "capped", False)
                else ""
            )
            + (
                f" {left_off} left off, without {lacking} (a model's own claim is not plotted)."
                if left_off
                else ""
            )
        ),
        fig=fig,
        filename=f"{edition.challenge.slug}-{edition.slug}-accuracy-vs-{name}",
        empty=not usable,
        arrays=arrays,
        summary=(
            f"Top-1 accuracy against {what} ({phase} part) for {len(usable) - n_baselines} teams'"
            f" best entries and {n_baselines} baselines; {len(on_front)} of them on the Pareto"
            " front."
        ),
        table=ChartTable(
            caption=f"Top-1 accuracy against {what}, {phase} part: the points the chart plots",
            columns=("Entry", "Kind", column, "Top-1 accuracy", "On the Pareto front"),
            rows=tuple(
                (
                    f"{p.team} · {p.method}" if p.team else p.method,
                    "baseline" if p.is_baseline else "team",
                    _quantity(getattr(p, x_field)),
                    cell(percent(p.accuracy)),
                    "yes" if i in on_front else "no",
                )
                for i, p in sorted(
                    enumerate(usable), key=lambda ip: (getattr(ip[1], x_field), -ip[1].accuracy)
                )
            ),
            numeric=frozenset({2, 3}),
        ),
    )


def _quantity(value: float) -> str:
    """A parameter count or a rate as the table prints it: whole, with thousands separators
    (three significant digits below 100)."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _short_name(method: str) -> str:
    """A baseline's name up to its details: "AlexNet (1/8 width, batch norm)" -> "AlexNet"."""
    return re.split(r" \(|, ", method, maxsplit=1)[0]


def _label_sides(xs: list[float], *, every: list[float]) -> list[str]:
    """Where each label goes on a log x axis spanning ``every``: leaning right in its first
    quarter, left in its last, centred between (so the chart's edges cut none off)."""
    logs = [math.log10(x) for x in every if x > 0]
    low, span = (min(logs), (max(logs) - min(logs)) or 1.0) if logs else (0.0, 1.0)
    sides = []
    for x in xs:
        at = (math.log10(x) - low) / span if x > 0 else 0.5
        sides.append("top right" if at < 0.25 else "top left" if at > 0.75 else "top center")
    return sides
