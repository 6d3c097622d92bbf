"""Whether the deeper baselines did better: the article's claim, checked against our own errors.

The networks are ordered by depth (layers with weights, as their papers count them); where two
have the same depth (two AlexNet widths, ResNet-18 and its SE variant) the better one stands for
that depth. Each step to the next depth either lowers the error or does not, and the sentence
says which, with the numbers; where every step helps, it also says whether the gain per added
layer shrank (diminishing returns). Nothing here reads the database: the page and
``baselines_report`` pass the values they show.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from leaderboard.metrics import percent


@dataclass(frozen=True)
class Point:
    name: str
    depth: int
    value: float  # an error: lower is better


@dataclass(frozen=True)
class Step:
    shallower: Point
    deeper: Point

    @property
    def change(self) -> float:
        """The deeper network's error minus the shallower one's (negative: deeper did better)."""
        return self.deeper.value - self.shallower.value

    @property
    def per_layer(self) -> float:
        return self.change / (self.deeper.depth - self.shallower.depth)


@dataclass(frozen=True)
class Trend:
    label: str  # "top-1 error", "robust error"
    points: tuple[Point, ...]  # one per depth, shallowest first
    steps: tuple[Step, ...]

    @property
    def deeper_always_better(self) -> bool:
        return bool(self.steps) and all(step.change < 0 for step in self.steps)

    @property
    def best(self) -> Point:
        return min(self.points, key=lambda p: (p.value, p.depth))

    @property
    def diminishing(self) -> bool:
        """Every step helped, and each helped less per added layer than the one before."""
        gains = [-step.per_layer for step in self.steps]
        return (
            self.deeper_always_better
            and len(gains) > 1
            and all(a > b for a, b in itertools.pairwise(gains))
        )

    def sentence(self) -> str:
        """The verdict in plain words, with every value it rests on."""
        if not self.steps:
            return ""
        first = self.points[0]
        chain = ", ".join(
            [_named(first)] + [f"{_named(s.deeper)} ({_points(s.change)})" for s in self.steps]
        )
        if self.deeper_always_better:
            per_layer = ", ".join(_points(step.per_layer) for step in self.steps)
            text = f"{_cap(self.label)}: each deeper network did better here: {chain}. "
            if len(self.steps) == 1:
                return text + f"Per added layer: {per_layer}."
            shrink = "diminishing returns" if self.diminishing else "not diminishing at every step"
            return text + f"Per added layer: {per_layer} ({shrink})."
        worse = "; ".join(
            f"{_named(s.deeper)} against {_named(s.shallower)}" for s in self.steps if s.change >= 0
        )
        best = self.best
        return (
            f"{_cap(self.label)}: deeper was not better at every step here: {worse}. "
            f"The lowest: {_named(best)}. "
            f"In order of depth: {chain}."
        )


def depth_trend(*, label: str, values: Iterable[tuple[str, int, float | None]]) -> Trend:
    """The trend of ``values`` ((name, depth, error) per network; no depth or no value: left
    out) over depth."""
    by_depth: dict[int, Point] = {}
    for name, depth, value in values:
        if not depth or value is None:
            continue
        point = Point(name=name, depth=depth, value=value)
        held = by_depth.get(depth)
        if held is None or point.value < held.value:
            by_depth[depth] = point
    points = tuple(by_depth[d] for d in sorted(by_depth))
    steps = tuple(Step(shallower=a, deeper=b) for a, b in itertools.pairwise(points))
    return Trend(label=label, points=points, steps=steps)


def _named(point: Point) -> str:
    return f"{point.name} ({point.depth} layers) {_pct(point.value)}"


def _pct(value: float) -> str:
    return percent(value, 2)


def _points(change: float) -> str:
    """A change of error in percentage points, signed: "-2.17 points"."""
    return f"{100 * change:+.2f} points".replace("-", "\u2212")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
