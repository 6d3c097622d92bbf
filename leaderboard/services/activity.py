"""Keep an edition's stored activity per day (``models.activity``) equal to its rows.

Every write that changes a day's figures (a participant's upload, a score recorded, a re-run,
a moderation, a deletion) calls ``activity_refresh`` in its own transaction, after the write:
the day is counted again from the rows. The edition's ``ActivitySummary`` row is locked
first, so two writers of one edition count one after the other, and the second counts with a
fresh snapshot that holds the first's committed write (PostgreSQL's read committed). A summary
never counted, or counted in another time zone or for another ranking metric, is counted whole
again instead (``activity_rebuild``, also ``manage.py activity_rebuild``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from leaderboard.models import ActivityDay, ActivitySummary, Edition, day_totals


def activity_refresh(*, edition_id: int, moments: Iterable[dt.datetime]) -> None:
    """Count again the days of the edition holding ``moments`` (submissions' times)."""
    with transaction.atomic():
        summary = _locked_summary(edition_id=edition_id)
        edition = summary.edition
        if not summary.matches(edition):
            _count_all(summary=summary)
            return
        days = {timezone.localtime(moment, edition.tzinfo).date() for moment in moments}
        _store_days(edition=edition, rows=day_totals(edition=edition, days=days), days=days)


def activity_rebuild(*, edition: Edition) -> int:
    """Count every day of the edition again from its rows; returns the number of days."""
    with transaction.atomic():
        return _count_all(summary=_locked_summary(edition_id=edition.pk))


def _locked_summary(*, edition_id: int) -> ActivitySummary:
    """The edition's summary row (made if missing), locked until the transaction ends."""
    ActivitySummary.objects.bulk_create(
        [ActivitySummary(edition_id=edition_id)], ignore_conflicts=True
    )
    return (
        ActivitySummary.objects.select_for_update(of=("self",))
        .select_related("edition__challenge")
        .get(edition_id=edition_id)
    )


def _count_all(*, summary: ActivitySummary) -> int:
    edition = summary.edition
    ActivityDay.objects.filter(edition=edition).delete()
    rows = list(day_totals(edition=edition))
    ActivityDay.objects.bulk_create([ActivityDay(edition=edition, **row) for row in rows])
    summary.time_zone = edition.time_zone
    summary.metric = edition.challenge.primary_metric
    summary.counted_at = timezone.now()
    summary.save()
    return len(rows)


def _store_days(*, edition: Edition, rows: Iterable[dict], days: set[dt.date]) -> None:
    """Write the counted ``rows`` of ``days``; a day without submissions now has no row."""
    counted = {row["day"]: row for row in rows}
    ActivityDay.objects.filter(edition=edition, day__in=days - set(counted)).delete()
    if counted:
        ActivityDay.objects.bulk_create(
            [ActivityDay(edition=edition, **row) for row in counted.values()],
            update_conflicts=True,
            unique_fields=["edition", "day"],
            update_fields=["submissions", "scored", "best"],
        )
