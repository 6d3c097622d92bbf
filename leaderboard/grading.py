"""Grades from a final board: the maths alone, so it can be checked by hand (no Django here).

A host grades an edition by one rule:

- *bands*: points by rank, e.g. ranks 1-3 get 10 points, 4-10 get 8, 11 and below 5;
- *linear*: full points at or below one error, none at or above another, a straight line
  between them.

Either may add a bonus for beating a named baseline (strictly better than its error on the
same board, "beats LeNet-5"). A team with no scored entry gets the rule's points for that
(0 by default). Equal errors share the better rank (1, 2, 2, 4), so a tie never splits a grade
on who submitted first. Points are decimals rounded half up to the cent, so the file a gradebook
imports and the page show the same figure. Every grade says why, in words a student can check.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

BANDS, LINEAR = "bands", "linear"
KINDS = (BANDS, LINEAR)
CENT = Decimal("0.01")
ZERO = Decimal(0)


class GradingError(ValueError):
    """A rule that cannot grade: says which part (``field``) and what is wrong with it."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Band:
    """Ranks ``first`` to ``last`` (both included; ``last`` None: every rank from ``first`` on)."""

    first: int
    last: int | None
    points: Decimal

    def covers(self, rank: int) -> bool:
        return rank >= self.first and (self.last is None or rank <= self.last)

    @property
    def label(self) -> str:
        if self.last is None:
            return f"ranks {self.first} and below"
        if self.last == self.first:
            return f"rank {self.first}"
        return f"ranks {self.first}\u2013{self.last}"

    def as_text(self) -> str:
        """The line the host typed for it ("1-3: 10", "4: 8", "11+: 5")."""
        span = f"{self.first}+" if self.last is None else str(self.first)
        if self.last is not None and self.last != self.first:
            span = f"{self.first}-{self.last}"
        return f"{span}: {points_text(self.points)}"


@dataclass(frozen=True)
class Rule:
    kind: str
    bands: tuple[Band, ...] = ()
    full_at: float | None = None  # linear: this error or better earns max_points
    zero_at: float | None = None  # linear: this error or worse earns nothing
    max_points: Decimal = ZERO
    bonus_points: Decimal = ZERO
    baseline_name: str = ""  # "" when the rule has no bonus
    baseline_error: float | None = None  # the baseline's error on the board; None: not on it
    unranked_points: Decimal = ZERO  # a team with no scored entry
    lower_is_better: bool = True


@dataclass(frozen=True)
class Entry:
    """A team to grade: ``key`` identifies it (its id), ``error`` is None without a score."""

    key: object
    name: str
    error: float | None


@dataclass(frozen=True)
class Grade:
    key: object
    name: str
    rank: int | None  # None: no scored entry
    error: float | None
    points: Decimal
    why: str


def points_text(value: Decimal) -> str:
    """Points as the files and pages print them: two decimals (10.00, 8.75)."""
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


_BAND_LINE = re.compile(r"^(\d+)\s*(?:(-)\s*(\d+)?|(\+))?\s*[:=]\s*(\S+)$")


def parse_bands(text: str) -> tuple[Band, ...]:
    """Bands from one line each, ``first-last: points`` ("1-3: 10", "4: 8", "11+: 5" or
    "11-: 5" for every rank from 11 on); blank lines are skipped. GradingError names the line."""
    bands = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _BAND_LINE.match(line)
        if not match:
            raise GradingError(
                f"Line {number} ({line!r}) is not a band: write ranks, a colon and the points, "
                "e.g. “1-3: 10”, “4: 8” or “11+: 5”.",
                field="bands",
            )
        first_text, dash, last_text, plus, points_text_ = match.groups()
        first = int(first_text)
        if last_text is not None:
            last: int | None = int(last_text)
        elif dash or plus:
            last = None
        else:
            last = first
        try:
            points = Decimal(points_text_.replace(",", "."))
        except InvalidOperation:
            raise GradingError(
                f"Line {number}: {points_text_!r} is not a number of points.", field="bands"
            ) from None
        if not points.is_finite():
            raise GradingError(
                f"Line {number}: {points_text_!r} is not a number of points.", field="bands"
            )
        bands.append(Band(first=first, last=last, points=points))
    check_bands(bands)
    return tuple(bands)


def check_bands(bands: Sequence[Band]) -> None:
    """Ranks from 1, each band first <= last, points not negative, no rank in two bands."""
    if not bands:
        raise GradingError("Give at least one band, e.g. “1-3: 10”.", field="bands")
    for band in bands:
        if band.first < 1:
            raise GradingError(f"{band.label}: ranks start at 1.", field="bands")
        if band.last is not None and band.last < band.first:
            raise GradingError(
                f"“{band.first}-{band.last}”: the last rank comes before the first.",
                field="bands",
            )
        if band.points < 0:
            raise GradingError(
                f"{band.label}: points cannot be negative ({band.points}).", field="bands"
            )
    ordered = sorted(bands, key=lambda b: b.first)
    for before, after in itertools.pairwise(ordered):
        if before.last is None or before.last >= after.first:
            raise GradingError(
                f"{before.label.capitalize()} and {after.label} overlap: each rank may be in "
                "one band only.",
                field="bands",
            )


def check_rule(rule: Rule) -> None:
    """Raise GradingError for the first thing in ``rule`` that cannot grade."""
    if rule.kind not in KINDS:
        raise GradingError(f"Unknown kind of rule {rule.kind!r}.", field="kind")
    for field, value in (
        ("max_points", rule.max_points),
        ("bonus_points", rule.bonus_points),
        ("unranked_points", rule.unranked_points),
    ):
        if value < 0:
            raise GradingError(f"Points cannot be negative ({value}).", field=field)
    if rule.kind == BANDS:
        check_bands(rule.bands)
    else:
        for field, value in (("full_at", rule.full_at), ("zero_at", rule.zero_at)):
            if value is None:
                raise GradingError("Give both errors of the linear rule.", field=field)
            if not 0 <= value <= 1:
                raise GradingError("An error lies between 0% and 100%.", field=field)
        assert rule.full_at is not None and rule.zero_at is not None
        if (
            (rule.full_at >= rule.zero_at)
            if rule.lower_is_better
            else (rule.full_at <= rule.zero_at)
        ):
            better = "below" if rule.lower_is_better else "above"
            raise GradingError(
                f"The error for full points must lie {better} the error for no points.",
                field="zero_at",
            )
    if rule.bonus_points > 0 and not rule.baseline_name:
        raise GradingError("Name the baseline a team must beat for the bonus.", field="baseline")


def grade_teams(
    *,
    rule: Rule,
    entries: Sequence[Entry],
    label: str,
    show: Callable[[float], str],
) -> list[Grade]:
    """Each team's grade, best rank first (teams with no score last, by name).

    ``label`` names the error in the reasons ("top-5 error"), ``show`` prints one (``16.42%``).
    """
    check_rule(rule)
    scored = [e for e in entries if e.error is not None]
    grades = []
    for entry in entries:
        if entry.error is None:
            points = Decimal(rule.unranked_points)
            why = f"no scored entry on the board: {points_text(points)} points"
            grades.append(Grade(entry.key, entry.name, None, None, _cents(points), why))
            continue
        error = entry.error
        rank = 1 + sum(1 for other in scored if _better(other.error, error, rule))
        tied = sum(1 for other in scored if other.error == error) - 1
        place = f"rank {rank} of {len(scored)}" + (
            f", tied with {tied} other team{'s' if tied > 1 else ''}" if tied else ""
        )
        if rule.kind == BANDS:
            points, reason = _by_band(rule, rank)
            why = f"{place}, {label} {show(error)}: {reason}"
        else:
            points, reason = _linear(rule, error, show)
            why = f"{label} {show(error)} ({place}): {reason}"
        bonus, bonus_reason = _bonus(rule, error, show)
        if bonus_reason:
            why += f"; {bonus_reason}"
        grades.append(Grade(entry.key, entry.name, rank, error, _cents(points + bonus), why))
    grades.sort(key=lambda g: (g.rank is None, g.rank or 0, g.name))
    return grades


def describe(rule: Rule, *, label: str, show: Callable[[float], str]) -> str:
    """The rule in one sentence, as the host's page shows it above the grades."""
    if rule.kind == BANDS:
        text = "; ".join(f"{b.label}: {points_text(b.points)}" for b in rule.bands)
        text = f"By rank: {text}" + ("; other ranks: 0.00" if rule.bands[-1].last else "")
    else:
        assert rule.full_at is not None and rule.zero_at is not None
        better, worse = (
            ("at or below", "at or above")
            if rule.lower_is_better
            else (
                "at or above",
                "at or below",
            )
        )
        text = (
            f"{points_text(rule.max_points)} points for a {label} {better} {show(rule.full_at)}, "
            f"0 {worse} {show(rule.zero_at)}, on a straight line between"
        )
    if rule.baseline_name and rule.bonus_points > 0:
        text += f"; +{points_text(rule.bonus_points)} for beating {rule.baseline_name}"
    return f"{text}; no scored entry: {points_text(rule.unranked_points)}."


def max_points(rule: Rule) -> Decimal:
    """The most a team can get under ``rule``: the best band or the line's top, plus a bonus."""
    top = max((b.points for b in rule.bands), default=ZERO) if rule.kind == BANDS else None
    best = top if top is not None else Decimal(rule.max_points)
    bonus = Decimal(rule.bonus_points) if rule.baseline_name else ZERO
    return _cents(max(best, Decimal(rule.unranked_points)) + bonus)


def _better(a: float | None, b: float, rule: Rule) -> bool:
    if a is None:
        return False
    return a < b if rule.lower_is_better else a > b


def _at_least_as_good(a: float, b: float, rule: Rule) -> bool:
    return a <= b if rule.lower_is_better else a >= b


def _by_band(rule: Rule, rank: int) -> tuple[Decimal, str]:
    for band in rule.bands:
        if band.covers(rank):
            verb = "gets" if band.last == band.first else "get"
            return Decimal(band.points), f"{band.label} {verb} {points_text(band.points)} points"
    return ZERO, "in no band: 0.00 points"


def _linear(rule: Rule, error: float, show: Callable[[float], str]) -> tuple[Decimal, str]:
    assert rule.full_at is not None and rule.zero_at is not None
    top = Decimal(rule.max_points)
    if _at_least_as_good(error, rule.full_at, rule):
        word = "at or below" if rule.lower_is_better else "at or above"
        return top, f"{word} {show(rule.full_at)} gets the full {points_text(top)} points"
    if _at_least_as_good(rule.zero_at, error, rule):
        word = "at or above" if rule.lower_is_better else "at or below"
        return ZERO, f"{word} {show(rule.zero_at)} gets 0.00 points"
    full, zero, value = (Decimal(repr(float(x))) for x in (rule.full_at, rule.zero_at, error))
    points = _cents(top * (zero - value) / (zero - full))
    return points, (
        f"on the line from {show(rule.full_at)} ({points_text(top)} points) to "
        f"{show(rule.zero_at)} (0 points): {points_text(points)} points"
    )


def _bonus(rule: Rule, error: float, show: Callable[[float], str]) -> tuple[Decimal, str]:
    if not rule.baseline_name or rule.bonus_points <= 0:
        return ZERO, ""
    name = rule.baseline_name
    if rule.baseline_error is None:
        return ZERO, f"{name} has no score on this board, so no bonus"
    if _better(error, rule.baseline_error, rule):
        bonus = Decimal(rule.bonus_points)
        return bonus, f"beats {name} ({show(rule.baseline_error)}): +{points_text(bonus)} bonus"
    return ZERO, f"does not beat {name} ({show(rule.baseline_error)}): no bonus"


def _cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
