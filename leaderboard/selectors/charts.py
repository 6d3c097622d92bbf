"""Data for an edition's charts page: submissions and the best public score per day, and the
accuracy of each team's best entry and of every baseline against size and speed (from the
evaluator's record). Three queries in all, whose results are bounded by days or by teams: a
chart of every submission costs seconds per request at 100,000 of them, and is unreadable.

Size and speed are plotted only as the platform measured them: the parameter count the worker
read from the model file (``params_source`` "file") and the throughput it timed itself
(``throughput_source`` "parent"). The model's own claims (its process runs the participant's
code) are left off, and so are records from before those keys, which hold claims too; a
baseline's older count is kept, since the platform built and trained that network itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, FilteredRelation, Min, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from leaderboard.models import RANKED_MODERATION, Edition, Metric, Score, Submission, Team


@dataclass(frozen=True)
class DayStat:
    day: dt.date  # in the edition's time zone
    submissions: int
    scored: int
    best: float | None  # best public error among the day's scored entries
    best_so_far: float | None  # the high score: best public error up to and including the day


@dataclass(frozen=True)
class EfficiencyPoint:
    submission_id: str
    team: str | None
    method: str
    is_baseline: bool
    accuracy: float  # top-1 accuracy in the edition's phase (1 - top-1 error)
    params: float | None  # values stored in the model file, counted by the worker; else None
    throughput: float | None  # images per second, timed by the worker (loading included)


def edition_daily(*, edition: Edition) -> list[DayStat]:
    """Per day (edition time zone): participant submissions made, and the best public error.

    One GROUP BY over the edition's submissions: the rows that come back are one a day. The
    scores are filtered to this edition's in the join's own condition, so that the join does
    not hash every edition's scores.
    """
    metric = f"own_score__public_{Metric(edition.challenge.primary_metric).value}_error"
    ranked = Q(status=Submission.Status.SCORED, moderation__in=RANKED_MODERATION)
    rows = (
        Submission.objects.filter(edition=edition, is_baseline=False)
        .annotate(
            own_score=FilteredRelation(
                "score", condition=Q(score__edition=edition, score__is_baseline=False)
            ),
            day=TruncDate("created_at", tzinfo=edition.tzinfo),
        )
        .values("day")
        .annotate(
            submissions=Count("pk"),
            scored=Count("pk", filter=ranked),
            best=Min(metric, filter=ranked),
        )
        .order_by("day")
    )
    days, record = [], None
    for row in rows:
        if row["best"] is not None and (record is None or row["best"] < record):
            record = row["best"]
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


def edition_efficiency(
    *, edition: Edition, now: dt.datetime | None = None
) -> list[EfficiencyPoint]:
    """Each team's most accurate entry and every baseline, with top-1 accuracy, size and speed.

    One point per team keeps the chart bounded by teams, not submissions. A team's best (on the
    edition's phase: public while it runs, private once closed; a tie goes to the earlier
    entry) is one probe of the score table's index on (team, top-1 error, time), as for the
    leaderboard. Two queries, the ids first and then their rows by key: in one, PostgreSQL
    joins the picked ids against every submission of the edition. Hidden and disqualified
    entries are left out.
    """
    phase = "private" if edition.is_closed(now=now or timezone.now()) else "public"
    column = f"{phase}_top1_error"
    ranked = Q(
        submission__status=Submission.Status.SCORED,
        submission__moderation__in=RANKED_MODERATION,
        **{f"{column}__isnull": False},
    )
    team_best = Subquery(
        Score.objects.filter(ranked, team_id=OuterRef("pk"))
        .order_by(column, "submitted_at", "submission_id")
        .values("submission_id")[:1]
    )
    teams = Team.objects.filter(edition=edition).annotate(best=team_best).order_by()
    baselines = Score.objects.filter(ranked, edition=edition, is_baseline=True)
    picked = teams.values_list("best", flat=True).union(
        baselines.values_list("submission_id", flat=True), all=True
    )
    rows = (
        Score.objects.filter(submission_id__in=[pk for pk in picked if pk is not None])
        .annotate(
            top1=F(column),
            params=F("record__params"),
            params_source=F("record__params_source"),
            throughput=F("record__throughput_img_s"),
            throughput_source=F("record__throughput_source"),
            team_label=F("team__name"),
            method=F("submission__method_name"),
        )
        .values(
            "submission_id",
            "is_baseline",
            "top1",
            "params",
            "params_source",
            "throughput",
            "throughput_source",
            "team_label",
            "method",
        )
        .order_by("submitted_at", "submission_id")
    )
    return [
        EfficiencyPoint(
            submission_id=str(row["submission_id"]),
            team=row["team_label"],
            method=row["method"],
            is_baseline=row["is_baseline"],
            accuracy=1.0 - row["top1"],
            params=_number(row["params"]) if _params_counted(row) else None,
            throughput=_number(row["throughput"]) if row["throughput_source"] == "parent" else None,
        )
        for row in rows
    ]


def _params_counted(row: dict) -> bool:
    """Counted from the file by the worker, or a baseline's record from before the key."""
    source = row["params_source"]
    return source == "file" or (source is None and row["is_baseline"])


def _number(value: object) -> float | None:
    """A positive number from the JSON record, else None (missing, null, or nonsense)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number > 0 and number == number and number != float("inf") else None
