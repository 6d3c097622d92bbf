"""A submission's error under each transform of the robustness track, beside its clean error.

One bar per transform, coloured by what it changes (rotation, scale, lighting, blur, noise; the
flip control hatched), the clean error first in grey, and a dashed line at the summary: the
mean over the corruptions. Buttons switch top-1/top-5.
"""

from __future__ import annotations

import plotly.graph_objects as go

from leaderboard.selectors.robustness_panel import RobustnessPanel

from .base import (
    BLUE,
    GREEN,
    MUTED,
    ORANGE,
    PURPLE,
    Chart,
    ChartTable,
    cell,
    chart,
    layout,
    percent,
)

GROUP_COLOURS = {
    "clean": "#98a2b3",
    "rotation": BLUE,
    "scale": "#0e9384",
    "lighting": ORANGE,
    "blur": PURPLE,
    "noise": "#c11574",
    "control": GREEN,
}
METRICS = (("top1", "Top-1 error"), ("top5", "Top-5 error"))


def robustness_chart(*, panel: RobustnessPanel, filename: str) -> Chart:
    """The figure; its traces are named "Error" and "Mean over the corruptions"."""
    labels = ["Clean", *(row.label for row in panel.rows)]
    groups = ["clean", *(row.group for row in panel.rows)]
    ys = {
        "top1": [percent(panel.clean_top1), *(percent(row.top1) for row in panel.rows)],
        "top5": [percent(panel.clean_top5), *(percent(row.top5) for row in panel.rows)],
    }
    increases = {
        "top1": [None, *(row.top1_increase for row in panel.rows)],
        "top5": [None, *(row.top5_increase for row in panel.rows)],
    }
    means = {"top1": percent(panel.mean_top1), "top5": percent(panel.mean_top5)}
    descriptions = ["the hidden set as it is", *(row.description for row in panel.rows)]

    def customdata(metric: str) -> list[list[str]]:
        return [
            [description, _increase_text(increase)]
            for description, increase in zip(descriptions, increases[metric], strict=True)
        ]

    bars = go.Bar(
        name="Error",
        x=labels,
        y=ys["top1"],
        marker={
            "color": [GROUP_COLOURS.get(g, MUTED) for g in groups],
            "pattern": {"shape": ["/" if g == "control" else "" for g in groups]},
        },
        customdata=customdata("top1"),
        texttemplate="%{y:.1f}",
        textposition="outside",
        cliponaxis=False,
        showlegend=False,
        hovertemplate="<b>%{x}</b>: %{y:.2f}%%{customdata[1]}<br>%{customdata[0]}<extra></extra>",
    )
    mean_line = go.Scatter(
        name=f"Mean over the {panel.n_corruptions} corruptions (flip excluded)",
        x=[labels[1], labels[-1]] if len(labels) > 1 else [],
        y=[means["top1"]] * 2 if len(labels) > 1 else [],
        mode="lines",
        line={"dash": "dash", "color": "#1d2330", "width": 1.5},
        hovertemplate="mean over the corruptions: %{y:.2f}%<extra></extra>",
    )
    fig = go.Figure(data=[bars, mean_line])
    fig.update_layout(
        **layout(x_title="", y_title="Top-1 error (%)", height=440),
        showlegend=True,
        bargap=0.25,
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "showactive": True,
                "x": 0.0,
                "xanchor": "left",
                "y": 1.22,
                "yanchor": "top",
                "pad": {"r": 4, "t": 0},
                "bgcolor": "#f9fafb",
                "bordercolor": "#d0d5dd",
                "font": {"size": 12},
                "buttons": [
                    {
                        "label": label,
                        "method": "update",
                        "args": [
                            {
                                "y": [ys[metric], [means[metric]] * 2],
                                "customdata": [customdata(metric), None],
                            },
                            {"yaxis.title.text": f"{label} (%)"},
                        ],
                    }
                    for metric, label in METRICS
                ],
            }
        ],
    )
    # The legend (the mean's line) on the right, clear of the top-1/top-5 buttons on the left.
    fig.update_layout(
        margin={"t": 96, "b": 110},
        legend={"x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
    )
    fig.update_xaxes(tickangle=-35)
    fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    part = "whole hidden set" if panel.part == "all" else "public part of the hidden set"
    summary = f"Error under each transform ({part}), top-1: clean {cell(ys['top1'][0])}"
    pairs = zip(labels[1:], ys["top1"][1:], strict=True)
    transformed = [(label, y) for label, y in pairs if y is not None]
    if transformed:
        low, high = min(transformed, key=lambda p: p[1]), max(transformed, key=lambda p: p[1])
        summary += (
            f"; from {cell(low[1])} ({low[0]}) to {cell(high[1])} ({high[0]}); the mean over the"
            f" {panel.n_corruptions} corruptions {cell(means['top1'])}"
        )
    rows = [
        (label, description, cell(top1), cell(top5), _increase_cell(increase))
        for label, description, top1, top5, increase in zip(
            labels, descriptions, ys["top1"], ys["top5"], increases["top1"], strict=True
        )
    ]
    rows.append(
        (
            "Mean over the corruptions",
            f"the {panel.n_corruptions} corruptions, the flip excluded",
            cell(means["top1"]),
            cell(means["top5"]),
            "",
        )
    )
    return chart(
        element_id="chart-robustness",
        title=f"Error under each transform ({part})",
        fig=fig,
        filename=filename,
        empty=not panel.rows,
        summary=summary + ".",
        table=ChartTable(
            caption=f"Error under each transform ({part}): the values the chart plots",
            columns=("Transform", "What it does", "Top-1 error", "Top-5 error", "Top-1 vs clean"),
            rows=tuple(rows),
            numeric=frozenset({2, 3, 4}),
        ),
    )


def _increase_text(increase: float | None) -> str:
    if increase is None:
        return ""
    return f" ({100 * increase:+.0f}% vs clean)"


def _increase_cell(increase: float | None) -> str:
    """The increase over the clean error as the table prints it ("+200%"), blank for clean."""
    return "" if increase is None else f"{100 * increase:+.0f}%"
