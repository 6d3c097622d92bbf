"""The Pareto front of (cost, accuracy) points: entries no other entry beats on both."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]], *, lower_x_is_better: bool) -> list[int]:
    """Indices of the non-dominated points, in order of x, for higher accuracy (y).

    A point is dominated when another is at least as good on both axes and better on one.
    ``lower_x_is_better``: True for parameter counts, False for throughput.
    """
    sign = 1.0 if lower_x_is_better else -1.0
    order = sorted(range(len(points)), key=lambda i: (sign * points[i][0], -points[i][1]))
    front, best_y = [], float("-inf")
    for i in order:
        if points[i][1] > best_y:
            front.append(i)
            best_y = points[i][1]
    return sorted(front, key=lambda i: points[i][0])
