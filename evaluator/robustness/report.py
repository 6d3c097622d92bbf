"""The robustness track's results as text: the command line's and the benchmark's table."""

from __future__ import annotations

from evaluator import robustness


def _pct(value: float | None) -> str:
    return "    n/a" if value is None else f"{100 * value:6.2f}%"


def _increase(value: float | None) -> str:
    return "     n/a" if value is None else f"{100 * value:+7.1f}%"


def summary_lines(robust: dict, *, part: str = "all") -> list[str]:
    """One line per transform (top-1, top-5, relative increase of top-1), then the summary."""
    clean = robust["clean"][part]
    lines = [
        f"robustness, {part} images:",
        f"  {'transform':<40} {'top-1':>7} {'top-5':>7} {'top-1 vs clean':>15}",
        f"  {'clean':<40} {_pct(clean['top1_error'])} {_pct(clean['top5_error'])}",
    ]
    for name, parts in robust["results"].items():
        row = parts[part]
        label = robustness.get(name).label
        lines.append(
            f"  {label:<40} {_pct(row['top1_error'])} {_pct(row['top5_error'])}"
            f" {_increase(row['top1_relative_increase']):>15}"
        )
    summary = robust["summary"][part]
    lines.append(
        f"  {'mean over ' + str(summary['n_transforms']) + ' corruptions (flip excluded)':<40}"
        f" {_pct(summary['mean_top1_error'])} {_pct(summary['mean_top5_error'])}"
        f" {_increase(summary['relative_increase']):>15}"
    )
    return lines
