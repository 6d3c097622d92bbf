"""One rule for every CSV the site writes: no text cell can start a spreadsheet formula.

Team and method names are chosen by participants, and a spreadsheet opening an export runs a
cell that starts with ``=``, ``+``, ``-`` or ``@`` (some programs also a tab or a carriage
return) as a formula: ``=HYPERLINK(...)`` sends data away on a click, DDE starts programs.
OWASP's rule: such a cell gets a leading single quote, which spreadsheets show as text.
Only ``str`` cells are escaped, so a number the code writes (``-0.25``) stays a number.
https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value``, or text that cannot be read as a formula when it is text that could."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class DictWriter(csv.DictWriter):
    """``csv.DictWriter`` whose every row goes through :func:`csv_cell` (None is written empty)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow(_escaped(rowdict))

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        super().writerows(_escaped(row) for row in rowdicts)


def _escaped(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: csv_cell(value) for key, value in row.items()}
