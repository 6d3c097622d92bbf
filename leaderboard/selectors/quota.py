"""What counts against a team's submission limits: the one definition the service and pages use.

Every submission counts from the moment it is created, except one that failed through the
platform's fault (``PLATFORM_ERROR_CODES``): that one is refunded as soon as it is recorded.
A worker crash or a sweeper retry re-runs the same row, so a retried submission counts once;
so does a host's re-run (``services.host_control``): it neither costs nor refunds a submission.
The day starts at midnight in the edition's own time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from leaderboard.errors import PLATFORM_ERROR_CODES
from leaderboard.models import Edition, Submission


@dataclass(frozen=True)
class SubmissionUsage:
    today: int
    total: int
    daily_limit: int
    total_limit: int

    @property
    def left_today(self) -> int:
        """Submissions the team may still make today (the total limit included)."""
        return max(0, min(self.daily_limit - self.today, self.total_limit - self.total))

    @property
    def left_total(self) -> int:
        return max(0, self.total_limit - self.total)


def quota_counted(*, edition: Edition) -> QuerySet[Submission]:
    """The edition's submissions that count against limits (filter further by team)."""
    return Submission.objects.filter(edition=edition).exclude(
        status=Submission.Status.FAILED, error_code__in=PLATFORM_ERROR_CODES, reruns=0
    )


def quota_day_start(*, edition: Edition, now: dt.datetime) -> dt.datetime:
    """Midnight of ``now``'s day in the edition's time zone (when the daily limit resets)."""
    local = timezone.localtime(now, edition.tzinfo)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def quota_resets_at(*, edition: Edition, now: dt.datetime | None = None) -> dt.datetime:
    """The next midnight in the edition's time zone: when the daily limit starts again."""
    today = timezone.localtime(now or timezone.now(), edition.tzinfo).date()
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=edition.tzinfo)


def quota_usage(
    *,
    edition: Edition,
    team_id: int | None = None,
    user: AbstractBaseUser | None = None,
    now: dt.datetime | None = None,
) -> SubmissionUsage:
    """The use of the limits by a team (by id, or the user's team), in one query."""
    now = now or timezone.now()
    counted = {"total": 0, "today": 0}
    if team_id is not None or (user is not None and user.is_authenticated):
        day_start = quota_day_start(edition=edition, now=now)
        team = Q(team_id=team_id) if team_id is not None else Q(team__members=user)
        counted = (
            quota_counted(edition=edition)
            .filter(team)
            .aggregate(total=Count("pk"), today=Count("pk", filter=Q(created_at__gte=day_start)))
        )
    return SubmissionUsage(
        today=counted["today"],
        total=counted["total"],
        daily_limit=edition.daily_limit,
        total_limit=edition.total_limit,
    )
