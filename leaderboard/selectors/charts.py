"""Data for an edition's charts: submissions and the best public score per day, and each
entry's accuracy against its size and speed (from the evaluator's record). One query each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from leaderboard.models import RANKED_MODERATION, Edition, Metric, Submission


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
    params: float | None
    throughput: float | None  # images per second on the scoring worker


def edition_daily(*, edition: Edition) -> list[DayStat]:
    """Per day (edition time zone): participant submissions made, and the best public error."""
    metric = f"score__public_{Metric(edition.challenge.primary_metric).value}_error"
    ranked = Q(status=Submission.Status.SCORED, moderation__in=RANKED_MODERATION)
    rows = (
        Submission.objects.filter(edition=edition, is_baseline=False)
        .annotate(day=TruncDate("created_at", tzinfo=edition.tzinfo))
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
    """Every ranked scored entry (baselines too) with its top-1 accuracy, size and speed."""
    phase = "private" if edition.is_closed(now=now or timezone.now()) else "public"
    rows = (
        Submission.objects.filter(
            edition=edition, status=Submission.Status.SCORED, moderation__in=RANKED_MODERATION
        )
        .exclude(**{f"score__{phase}_top1_error": None})
        .annotate(
            top1=F(f"score__{phase}_top1_error"),
            params=F("score__record__params"),
            throughput=F("score__record__throughput_img_s"),
            team_label=F("team__name"),
        )
        .values("pk", "team_label", "method_name", "is_baseline", "top1", "params", "throughput")
        .order_by("created_at", "pk")
    )
    return [
        EfficiencyPoint(
            submission_id=str(row["pk"]),
            team=row["team_label"],
            method=row["method_name"],
            is_baseline=row["is_baseline"],
            accuracy=1.0 - row["top1"],
            params=_number(row["params"]),
            throughput=_number(row["throughput"]),
        )
        for row in rows
    ]


def _number(value: object) -> float | None:
    """A positive number from the JSON record, else None (missing, null, or nonsense)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number > 0 and number == number and number != float("inf") else None
