"""The grading maths (``leaderboard.grading``) against sums done by hand, and its refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leaderboard import grading
from leaderboard.grading import Band, Entry, GradingError, Rule


def show(value: float) -> str:
    return f"{value * 100:.2f}%"


def grade(rule: Rule, errors: dict[str, float | None]) -> dict[str, tuple]:
    entries = [Entry(key=name, name=name, error=error) for name, error in errors.items()]
    found = grading.grade_teams(rule=rule, entries=entries, label="top-5 error", show=show)
    return {g.name: (g.rank, str(g.points)) for g in found}


BOARD = {"A": 0.10, "B": 0.20, "C": 0.20, "D": 0.30, "E": 0.35, "F": None, "G": 0.05}
BANDS = (
    Band(first=1, last=2, points=Decimal(10)),
    Band(first=3, last=3, points=Decimal(7)),
    Band(first=5, last=None, points=Decimal(2)),
)


def test_bands_share_a_rank_on_a_tie_and_grade_a_team_without_a_score():
    rule = Rule(kind=grading.BANDS, bands=BANDS, unranked_points=Decimal("1.5"))
    # By hand: G 0.05 is 1st, A 0.10 2nd, B and C 0.20 both 3rd (so no 4th), D 5th, E 6th.
    assert grade(rule, BOARD) == {
        "G": (1, "10.00"),
        "A": (2, "10.00"),
        "B": (3, "7.00"),
        "C": (3, "7.00"),
        "D": (5, "2.00"),
        "E": (6, "2.00"),
        "F": (None, "1.50"),
    }


def test_a_rank_in_no_band_gets_nothing_and_says_so():
    rule = Rule(kind=grading.BANDS, bands=BANDS)
    entries = [
        Entry(key=n, name=n, error=e) for n, e in zip("abcd", (0.1, 0.2, 0.3, 0.4), strict=True)
    ]
    grades = grading.grade_teams(rule=rule, entries=entries, label="top-5 error", show=show)
    fourth = next(g for g in grades if g.name == "d")
    assert (fourth.rank, fourth.points) == (4, Decimal("0.00"))
    assert "in no band" in fourth.why


def test_bonus_for_strictly_beating_the_baseline_not_for_equalling_it():
    rule = Rule(
        kind=grading.BANDS,
        bands=BANDS,
        bonus_points=Decimal("1.5"),
        baseline_name="LeNet-5",
        baseline_error=0.20,
        unranked_points=Decimal("1.5"),
    )
    found = grade(rule, BOARD)
    # G and A are below 20.00%: +1.50; B and C are at it: no bonus; F has no score: no bonus.
    assert found == {
        "G": (1, "11.50"),
        "A": (2, "11.50"),
        "B": (3, "7.00"),
        "C": (3, "7.00"),
        "D": (5, "2.00"),
        "E": (6, "2.00"),
        "F": (None, "1.50"),
    }
    grades = grading.grade_teams(
        rule=rule,
        entries=[Entry(key=n, name=n, error=e) for n, e in BOARD.items()],
        label="top-5 error",
        show=show,
    )
    why = {g.name: g.why for g in grades}
    assert "beats LeNet-5 (20.00%): +1.50 bonus" in why["A"]
    assert "does not beat LeNet-5 (20.00%)" in why["B"]
    assert "tied with 1 other team" in why["B"]
    assert why["F"].startswith("no scored entry")


LINEAR = Rule(
    kind=grading.LINEAR,
    full_at=0.10,
    zero_at=0.30,
    max_points=Decimal(20),
    bonus_points=Decimal(3),
    baseline_name="LeNet-5",
    baseline_error=0.25,
)


@pytest.mark.parametrize(
    ("error", "points"),
    [
        (0.05, "23.00"),  # better than full: 20, and beats 25%: +3
        (0.10, "23.00"),  # exactly at the full-points threshold: 20 + 3
        (0.17, "16.00"),  # 20 * (0.30 - 0.17) / 0.20 = 13, + 3
        (0.2333, "9.67"),  # 20 * 0.0667 / 0.20 = 6.67, + 3
        (0.12345, "20.66"),  # 20 * 0.17655 / 0.20 = 17.655 -> 17.66 (half up), + 3
        (0.25, "5.00"),  # 20 * 0.05 / 0.20 = 5; equals the baseline: no bonus
        (0.30, "0.00"),  # exactly at the no-points threshold
        (0.90, "0.00"),
    ],
)
def test_linear_points_between_the_thresholds(error, points):
    assert grade(LINEAR, {"T": error}) == {"T": (1, points)}


def test_a_baseline_missing_from_the_board_gives_no_bonus_and_says_why():
    rule = Rule(**{**LINEAR.__dict__, "baseline_error": None})
    (only,) = grading.grade_teams(
        rule=rule, entries=[Entry(key=1, name="T", error=0.05)], label="top-5 error", show=show
    )
    assert only.points == Decimal("20.00")
    assert "LeNet-5 has no score on this board" in only.why


def test_most_points_is_the_top_band_or_the_full_points_plus_the_bonus():
    assert grading.max_points(Rule(kind=grading.BANDS, bands=BANDS)) == Decimal("10.00")
    assert grading.max_points(LINEAR) == Decimal("23.00")


def test_bands_parse_from_the_host_text():
    assert grading.parse_bands("1-3: 10\n\n 4 : 8,5\n11+: 5") == (
        Band(1, 3, Decimal(10)),
        Band(4, 4, Decimal("8.5")),
        Band(11, None, Decimal(5)),
    )
    assert grading.parse_bands("20-: 1") == (Band(20, None, Decimal(1)),)
    bands = grading.parse_bands("1-3: 10\n4: 8.5\n11+: 5")
    assert [b.as_text() for b in bands] == ["1-3: 10.00", "4: 8.50", "11+: 5.00"]  # round trip
    assert [b.label for b in bands] == ["ranks 1\u20133", "rank 4", "ranks 11 and below"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1-3 10", "Line 1 ('1-3 10') is not a band"),
        ("1-3: 10\nten: 5", "Line 2 ('ten: 5') is not a band"),
        ("3-1: 5", "the last rank comes before the first"),
        ("1-3: 10\n3-5: 5", "Ranks 1\u20133 and ranks 3\u20135 overlap"),
        ("5+: 1\n7: 2", "Ranks 5 and below and rank 7 overlap"),
        ("0-2: 4", "ranks start at 1"),
        ("1-3: -2", "points cannot be negative"),
        ("1-3: 1e", "'1e' is not a number of points"),
        ("", "Give at least one band"),
    ],
)
def test_bad_bands_are_named(text, says):
    with pytest.raises(GradingError) as caught:
        grading.parse_bands(text)
    assert says in caught.value.message and caught.value.field == "bands"


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"full_at": 0.30, "zero_at": 0.10}, "zero_at", "must lie below"),
        ({"full_at": 0.20, "zero_at": 0.20}, "zero_at", "must lie below"),
        ({"full_at": None}, "full_at", "Give both errors"),
        ({"zero_at": 1.5}, "zero_at", "between 0% and 100%"),
        ({"max_points": Decimal(-1)}, "max_points", "cannot be negative"),
        ({"bonus_points": Decimal(-1)}, "bonus_points", "cannot be negative"),
        ({"baseline_name": ""}, "baseline", "Name the baseline"),
    ],
)
def test_a_rule_that_cannot_grade_is_refused(changes, field, says):
    with pytest.raises(GradingError) as caught:
        grading.check_rule(Rule(**{**LINEAR.__dict__, **changes}))
    assert caught.value.field == field and says in caught.value.message


def test_a_higher_is_better_rule_mirrors_the_line():
    rule = Rule(
        kind=grading.LINEAR, full_at=0.9, zero_at=0.5, max_points=Decimal(10), lower_is_better=False
    )
    # 10 * (0.8 - 0.5) / (0.9 - 0.5) = 7.5
    assert grade(rule, {"a": 0.8, "b": 0.95, "c": 0.5}) == {
        "b": (1, "10.00"),
        "a": (2, "7.50"),
        "c": (3, "0.00"),
    }


def test_the_rule_in_one_sentence():
    bands = Rule(kind=grading.BANDS, bands=BANDS[:2], unranked_points=Decimal(1))
    assert grading.describe(bands, label="top-5 error", show=show) == (
        "By rank: ranks 1\u20132: 10.00; rank 3: 7.00; other ranks: 0.00; no scored entry: 1.00."
    )
    assert grading.describe(LINEAR, label="top-5 error", show=show) == (
        "20.00 points for a top-5 error at or below 10.00%, 0 at or above 30.00%, on a straight "
        "line between; +3.00 for beating LeNet-5; no scored entry: 0.00."
    )
