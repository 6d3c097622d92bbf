"""An edition's activity per day, stored: what the charts page's per-day figures read.

Counting every submission of the edition on each request cost most of the charts page at
100,000 submissions. ``ActivityDay`` keeps, per day of the edition's time zone, the count that
``day_totals`` computes from the rows, and ``ActivitySummary`` says on what basis (time zone,
ranking metric) the days were counted: a summary whose basis no longer matches the edition is
not read, but counted again. ``services.activity`` keeps both up to date in the transaction of
every write that changes a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import models
from django.db.models import Count, FilteredRelation, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate

from leaderboard.metrics import PUBLIC, metric_get

from .challenges import Edition
from .submissions import RANKED_MODERATION, Submission


class ActivitySummary(models.Model):
    """The basis of an edition's ``ActivityDay`` rows; empty fields: never counted."""

    edition = models.OneToOneField(
        Edition, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    time_zone = models.CharField(max_length=64, blank=True)  # the days' time zone
    metric = models.CharField(max_length=20, blank=True)  # whose best public value is kept
    counted_at = models.DateTimeField(null=True, blank=True)  # the last full count

    def matches(self, edition: Edition) -> bool:
        """True when the rows were counted as ``edition`` counts its days now."""
        return (self.time_zone, self.metric) == (
            edition.time_zone,
            edition.challenge.primary_metric,
        )


class ActivityDay(models.Model):
    """One day of an edition (in its time zone) on which participants submitted."""

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="+", db_index=False
    )  # the unique (edition, day) index serves it
    day = models.DateField()
    submissions = models.PositiveIntegerField()  # participants' submissions made that day
    scored = models.PositiveIntegerField()  # of those, scored and ranked (not hidden)
    best = models.FloatField(null=True)  # the best public value of the metric among them

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["edition", "day"], name="activity_day_unique"),
        ]


def day_totals(
    *,
    edition: Edition,
    frozen: dt.datetime | None = None,
    days: Iterable[dt.date] | None = None,
) -> QuerySet:
    """Per day of the edition's time zone: ``submissions``, ``scored``, ``best``, from the rows.

    One GROUP BY over the edition's participant submissions (baselines are not activity).
    ``frozen``: count only scores recorded by then (a frozen board's charts). ``days``: only
    these days, found through the time index. The scores are filtered to this edition's in the
    join's own condition, so that the join does not hash every edition's scores.
    """
    metric = metric_get(edition.challenge.primary_metric)
    column = f"own_score__{metric.column(PUBLIC)}"
    best = Min if metric.lower_is_better else Max
    ranked = Q(status=Submission.Status.SCORED, moderation__in=RANKED_MODERATION)
    if frozen is not None:
        ranked &= Q(own_score__created_at__lte=frozen)
    rows = Submission.objects.filter(edition=edition, is_baseline=False)
    if days is not None:
        days = sorted(set(days))
        if not days:
            return rows.none()
        # A day of any time zone lies within a day either side of the same UTC date.
        start = dt.datetime.combine(days[0], dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
        stop = dt.datetime.combine(days[-1], dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=2)
        rows = rows.filter(created_at__gte=start, created_at__lt=stop)
    rows = rows.annotate(
        own_score=FilteredRelation(
            "score", condition=Q(score__edition=edition, score__is_baseline=False)
        ),
        day=TruncDate("created_at", tzinfo=edition.tzinfo),
    )
    if days is not None:
        rows = rows.filter(day__in=days)
    return (
        rows.values("day")
        .annotate(
            submissions=Count("pk"),
            scored=Count("pk", filter=ranked),
            best=best(column, filter=ranked),
        )
        .order_by("day")
    )
