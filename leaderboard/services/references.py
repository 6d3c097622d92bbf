"""Reported results (published figures) imported from CSV onto a challenge.

They are facts from papers and results pages, not scores we computed: they live in their own
table and every page and chart shows them as "reported". Each row needs a source. A challenge's
rows are results reported on that challenge's data set, never another's: the ILSVRC series
belongs to ImageNet (its own page, ``ilsvrc_history_rows``), Fashion-MNIST's benchmark table to
a challenge on Fashion-MNIST.

CSV columns: ``year, team`` and at least one of ``top5_error_pct`` / ``top1_error_pct``
(percent, as papers print them) or ``top5_error`` / ``top1_error`` (fractions); optional
``method``, ``note``; ``source`` is required. Importing again updates rows by (year, team).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from leaderboard.models import Challenge, ReferenceResult

DATA = Path(__file__).resolve().parents[1] / "data"
# The ILSVRC classification winners 2010-2017 (top-5 error on ImageNet), each with its source.
ILSVRC_HISTORY_CSV = DATA / "ilsvrc_classification_history.csv"
# The benchmark table published with Fashion-MNIST (top-1 error on its 10,000 test images).
FASHION_MNIST_REPORTED_CSV = DATA / "fashion_mnist_benchmark.csv"


class ReferenceCSVError(ValueError):
    """The CSV cannot be imported; the message names the line and the problem."""


@dataclass(frozen=True)
class ReferenceRow:
    year: int
    team: str
    method: str
    top5_error: float | None
    top1_error: float | None
    note: str
    source: str


@dataclass(frozen=True)
class ReferenceImport:
    created: int
    updated: int
    deleted: int


def reference_rows_parse(*, text: str) -> list[ReferenceRow]:
    """Read and check every row first, so a bad file imports nothing."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {name.strip() for name in reader.fieldnames or []}
    missing = {"year", "team", "source"} - columns
    if missing:
        raise ReferenceCSVError(f"missing column(s): {', '.join(sorted(missing))}")
    if not columns & {"top5_error_pct", "top1_error_pct", "top5_error", "top1_error"}:
        raise ReferenceCSVError("no error column (top5_error_pct, top1_error_pct, ...)")
    rows, seen = [], set()
    for line, raw in enumerate(reader, start=2):
        record = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        row = _row(record, line=line)
        if (row.year, row.team.lower()) in seen:
            raise ReferenceCSVError(f"line {line}: {row.year} {row.team!r} appears twice")
        seen.add((row.year, row.team.lower()))
        rows.append(row)
    if not rows:
        raise ReferenceCSVError("the file has no rows")
    return rows


@transaction.atomic
def reference_results_import(
    *, challenge: Challenge, text: str, replace: bool = False
) -> ReferenceImport:
    """Attach the CSV's rows to the challenge; ``replace`` first removes rows not in the file."""
    rows = reference_rows_parse(text=text)
    created = updated = deleted = 0
    if replace:
        keep = {(row.year, row.team) for row in rows}
        for existing in challenge.reference_results.all():
            if (existing.year, existing.team) not in keep:
                existing.delete()
                deleted += 1
    for row in rows:
        _, was_created = ReferenceResult.objects.update_or_create(
            challenge=challenge,
            year=row.year,
            team=row.team,
            defaults={
                "method": row.method,
                "top5_error": row.top5_error,
                "top1_error": row.top1_error,
                "note": row.note,
                "source": row.source,
            },
        )
        created += was_created
        updated += not was_created
    return ReferenceImport(created=created, updated=updated, deleted=deleted)


def reference_results_import_ilsvrc(*, challenge: Challenge) -> ReferenceImport:
    """Attach the shipped ILSVRC 2010-2017 classification winners: for a challenge on
    ImageNet's data (anywhere else they are another set's numbers)."""
    return reference_results_import(
        challenge=challenge, text=ILSVRC_HISTORY_CSV.read_text(encoding="utf-8")
    )


@transaction.atomic
def reference_results_set(*, challenge: Challenge, path: Path | None) -> ReferenceImport:
    """Make the challenge's reported results exactly the file's rows (none for ``None``): for a
    challenge whose reported results are a shipped file, such as the demo, so that a re-run
    also takes away rows of an earlier file (the ILSVRC rows an older demo was given)."""
    if path is None:
        deleted, _ = ReferenceResult.objects.filter(challenge=challenge).delete()
        return ReferenceImport(created=0, updated=0, deleted=deleted)
    return reference_results_import(
        challenge=challenge, text=path.read_text(encoding="utf-8-sig"), replace=True
    )


def ilsvrc_history_rows() -> list[ReferenceRow]:
    """The shipped ILSVRC series, read from its file (tied to no challenge): the story of the
    field on ImageNet, for its own page."""
    return reference_rows_parse(text=ILSVRC_HISTORY_CSV.read_text(encoding="utf-8"))


def _row(record: dict[str, str], *, line: int) -> ReferenceRow:
    try:
        year = int(record.get("year", ""))
    except ValueError:
        raise ReferenceCSVError(
            f"line {line}: year {record.get('year')!r} is not a number"
        ) from None
    if not 1900 <= year <= 2200:
        raise ReferenceCSVError(f"line {line}: year {year} is out of range")
    team = record.get("team", "")
    if not team:
        raise ReferenceCSVError(f"line {line}: team is empty")
    source = record.get("source", "")
    if not source:
        raise ReferenceCSVError(f"line {line}: source is empty (every reported result needs one)")
    top5 = _error(record, "top5", line=line)
    top1 = _error(record, "top1", line=line)
    if top5 is None and top1 is None:
        raise ReferenceCSVError(f"line {line}: neither a top-5 nor a top-1 error")
    return ReferenceRow(
        year=year,
        team=team[:200],
        method=record.get("method", "")[:300],
        top5_error=top5,
        top1_error=top1,
        note=record.get("note", ""),
        source=source,
    )


def _error(record: dict[str, str], k: str, *, line: int) -> float | None:
    """A fraction in [0, 1] from ``topK_error_pct`` (percent) or ``topK_error`` (fraction)."""
    for column, scale in ((f"{k}_error_pct", 100.0), (f"{k}_error", 1.0)):
        text = record.get(column, "")
        if not text:
            continue
        try:
            value = float(text.rstrip("%")) / scale
        except ValueError:
            raise ReferenceCSVError(f"line {line}: {column} {text!r} is not a number") from None
        if not 0.0 <= value <= 1.0:
            raise ReferenceCSVError(f"line {line}: {column} {text!r} is not an error rate")
        return round(value, 10)
    return None
