"""Data for an edition's charts page: submissions and the best public score per day, and the
accuracy of each team's best entry and of every baseline against size and speed (from the
evaluator's record). A few queries, whose results are bounded by days or by teams: a chart of
every submission costs seconds per request at 100,000 of them, and is unreadable.

Size and speed are plotted only as the platform measured them: the parameter count the worker
read from the model file (``params_source`` "file") and the throughput it timed itself
(``throughput_source`` "parent"). The model's own claims (its process runs the participant's
code) are left off, and so are records from before those keys, which hold claims too; a
baseline's older count is kept, since the platform built and trained that network itself."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from leaderboard.metrics import TOP1, metric_get
from leaderboard.models import ActivityDay, ActivitySummary, Edition, day_totals

from .ranking import Ranking, edition_phase, ranked_plain_rows

DAY_FIELDS = ("day", "submissions", "scored", "best")
# The efficiency charts of a crowded edition draw its first EFFICIENCY_CAP teams by top-1 (and
# every baseline): 10,000 teams' points cost about a second a request, and make no readable
# chart.
EFFICIENCY_CAP = 1000


@dataclass(frozen=True)
class DayStat:
    day: dt.date  # in the edition's time zone
    submissions: int
    scored: int
    best: float | None  # best public value of the ranking metric among the day's scored entries
    best_so_far: float | None  # the high score: the best up to and including the day


@dataclass(frozen=True)
class EfficiencyPoint:
    submission_id: str
    team: str | None
    method: str
    is_baseline: bool
    accuracy: float  # top-1 accuracy in the edition's phase (1 - top-1 error)
    params: float | None  # values stored in the model file, counted by the worker; else None
    throughput: float | None  # images per second, timed by the worker (loading included)


def edition_daily(*, edition: Edition, now: dt.datetime | None = None) -> list[DayStat]:
    """Per day (edition time zone): participant submissions made, and the best public value
    of the challenge's ranking metric.

    Read from the stored days (``models.activity``: one row a day, kept up to date by every
    write), in one query. Counted from the rows instead (``day_totals``, one GROUP BY over the
    edition's submissions) when none are stored, when they were counted on another basis than
    the edition's now (its time zone or ranking metric changed since), or while the board is
    frozen, since its charts show no score recorded after the freeze (``selectors.ranking``).
    """
    metric = metric_get(edition.challenge.primary_metric)
    frozen = edition.board_frozen_as_of(now=now)
    rows = _stored_days(edition=edition) if frozen is None else None
    if rows is None:
        rows = day_totals(edition=edition, frozen=frozen)
    days, record = [], None
    for row in rows:
        record = metric.best([record, row["best"]])
        days.append(
            DayStat(
                day=row["day"],
                submissions=row["submissions"],
                scored=row["scored"],
                best=row["best"],
                best_so_far=record,
            )
        )
    return days


def _stored_days(*, edition: Edition) -> list[dict] | None:
    """The stored days with the basis they were counted on; None unless it is the edition's."""
    basis = ActivitySummary.objects.filter(edition=OuterRef("edition"))
    rows = list(
        ActivityDay.objects.filter(edition=edition)
        .order_by("day")
        .annotate(
            counted_zone=Subquery(basis.values("time_zone")),
            counted_metric=Subquery(basis.values("metric")),
        )
        .values(*DAY_FIELDS, "counted_zone", "counted_metric")
    )
    now_counted = (edition.time_zone, edition.challenge.primary_metric)
    if not rows or (rows[0]["counted_zone"], rows[0]["counted_metric"]) != now_counted:
        return None
    return rows


class EfficiencyPoints(list):
    """The points, with ``teams``: how many teams the edition's top-1 board holds (more than
    were drawn once it has more than ``EFFICIENCY_CAP``)."""

    teams: int = 0

    @property
    def capped(self) -> bool:
        return self.teams > sum(not point.is_baseline for point in self)


def edition_efficiency(
    *, edition: Edition, now: dt.datetime | None = None, cap: int = EFFICIENCY_CAP
) -> EfficiencyPoints:
    """Each team's most accurate entry and every baseline, with top-1 accuracy, size and speed.

    One point per team keeps the chart bounded by teams, not submissions, and ``cap`` bounds
    it by the first teams of that board. A team's point is its best by top-1 error on the part
    the edition shows (``ranking.edition_phase``), whatever it chose as finals: the one ranking
    with ``finals=False`` (each team's stored best), each entry's record in the same query, as
    plain rows (``ranked_plain_rows``). Hidden and disqualified entries are left out.
    """
    phase = edition_phase(edition=edition, now=now)
    ranking = Ranking.of(edition=edition, phase=phase, metric=TOP1, finals=False, now=now)
    rows = ranked_plain_rows(ranking=ranking, places=cap, score_columns=("record",))
    points = EfficiencyPoints()
    baselines = sum(bool(row.is_baseline) for row in rows)
    points.teams = rows[0].total_rows - baselines if rows else 0
    for row in sorted(rows, key=lambda r: (r.created_at, str(r.pk))):
        record = _record(row.score_record)
        counted = _params_counted(record, is_baseline=row.is_baseline)
        measured = record.get("throughput_source") == "parent"
        points.append(
            EfficiencyPoint(
                submission_id=str(row.pk),
                team=row.team_name,
                method=row.method_name,
                is_baseline=row.is_baseline,
                accuracy=1.0 - row.top1_value,
                params=_number(record.get("params")) if counted else None,
                throughput=_number(record.get("throughput_img_s")) if measured else None,
            )
        )
    return points


def _record(text: str | dict | None) -> dict:
    """The score's record as the query returns it (JSON text), a dict; {} for anything else."""
    try:
        record = json.loads(text) if isinstance(text, str | bytes) else text
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _params_counted(record: dict, *, is_baseline: bool) -> bool:
    """Counted from the file by the worker, or a baseline's record from before the key."""
    source = record.get("params_source")
    return source == "file" or (source is None and is_baseline)


def _number(value: object) -> float | None:
    """A positive number from the JSON record, else None (missing, null, or nonsense)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number > 0 and number == number and number != float("inf") else None
