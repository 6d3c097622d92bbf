"""The one CSV rule (OWASP's): text that a spreadsheet would run as a formula gets a quote."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from leaderboard.csv_cells import DictWriter, csv_cell

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "@SUM(1)", "+1+2", "-2+3", "\tcmd", "\r=1", "=", "-"],
)
def test_text_that_starts_a_formula_is_quoted(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Owls", "a=b", " =1", "'=1", "", "0.5", "2025-01-01T00:00"])
def test_other_text_is_left_alone(value):
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", [-0.25, -3, 0, 1.5, True, False, None])
def test_numbers_booleans_and_none_are_not_text(value):
    assert csv_cell(value) is value


def test_the_writer_escapes_every_row_and_writes_numbers_as_numbers():
    out = io.StringIO()
    writer = DictWriter(out, fieldnames=["team", "error", "note"], lineterminator="\n")
    writer.writeheader()
    writer.writerow({"team": "=1+1", "error": -0.25, "note": None})
    writer.writerows([{"team": "@A1", "error": 0.5, "note": "ok"}])
    assert out.getvalue() == "team,error,note\n'=1+1,-0.25,\n'@A1,0.5,ok\n"
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["team"] for r in rows] == ["'=1+1", "'@A1"]


def test_no_module_writes_csv_without_the_shared_writer():
    """Every CSV the site produces goes through leaderboard.csv_cells (one rule, one place)."""
    direct = re.compile(r"\bcsv\.(DictWriter|writer)\(")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "leaderboard").rglob("*.py")
        if path.name != "csv_cells.py" and direct.search(path.read_text())
    ]
    assert offenders == []
