"""What the fleet page shows: the workers heard from recently, the queue depths, and how long
submissions waited and ran over the last hour, as medians computed by the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, QuerySet
from django.utils import timezone

from leaderboard.models import ScoringShard, Submission, WorkerHeartbeat

from . import routing
from .queues import queue_depths

SEEN_WITHIN = dt.timedelta(minutes=10)
WINDOW = dt.timedelta(hours=1)
SILENT_AFTER_BEATS = 3  # a worker that missed this many beats is shown as silent


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5) WITHIN GROUP (ORDER BY ...)``."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass(frozen=True)
class Durations:
    n: int
    median_s: float | None


@dataclass(frozen=True)
class WorkerStatus:
    name: str
    host: str
    queues: list[str]
    device: str
    memory_total_mb: int | None
    memory_used_mb: int | None
    started_at: dt.datetime
    last_seen: dt.datetime
    seconds_since_seen: float
    state: str  # busy, idle, silent (missed beats) or stopped (said goodbye)
    task: str
    submission_id: str | None
    shard_index: int | None
    busy_seconds: float | None


@dataclass(frozen=True)
class QueueStatus:
    name: str
    depth: int | None


@dataclass(frozen=True)
class Fleet:
    generated_at: dt.datetime
    window_seconds: float
    workers: list[WorkerStatus]
    queues: list[QueueStatus]
    unacked: int | None
    queue_error: str
    submissions_queued: int
    submissions_running: int
    wait: Durations  # created -> started, for submissions started in the window
    scoring: Durations  # started -> finished, for submissions finished in the window
    shard_wait: Durations  # sent -> started, for shards started in the window
    shard_scoring: Durations  # started -> done, for shards done in the window

    def as_dict(self) -> dict:
        return asdict(self)


def fleet_overview(
    *, now: dt.datetime | None = None, seen_within: dt.timedelta = SEEN_WITHIN
) -> Fleet:
    """Everything on the fleet page: a few small queries and one Redis round trip."""
    now = now or timezone.now()
    since = now - WINDOW
    workers = [
        _worker(row, now=now)
        for row in WorkerHeartbeat.objects.filter(last_seen__gte=now - seen_within)
    ]
    reported = [queue for worker in workers for queue in worker.queues]
    names = sorted(
        {*routing.configured_queues().all(), settings.CELERY_TASK_DEFAULT_QUEUE, *reported}
    )
    found = queue_depths(broker_url=settings.CELERY_BROKER_URL, queues=names)
    counts = {
        row["status"]: row["n"]
        for row in Submission.objects.filter(
            status__in=[Submission.Status.QUEUED, Submission.Status.RUNNING]
        )
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    }
    return Fleet(
        generated_at=now,
        window_seconds=WINDOW.total_seconds(),
        workers=workers,
        queues=[QueueStatus(name=name, depth=found.depths.get(name)) for name in names],
        unacked=found.unacked,
        queue_error=found.error,
        submissions_queued=counts.get(Submission.Status.QUEUED, 0),
        submissions_running=counts.get(Submission.Status.RUNNING, 0),
        wait=median_duration(
            Submission.objects.filter(started_at__gte=since, started_at__lte=now),
            start="created_at",
            end="started_at",
        ),
        scoring=median_duration(
            Submission.objects.filter(
                finished_at__gte=since, finished_at__lte=now, started_at__isnull=False
            ),
            start="started_at",
            end="finished_at",
        ),
        shard_wait=median_duration(
            ScoringShard.objects.filter(
                started_at__gte=since, started_at__lte=now, enqueued_at__isnull=False
            ),
            start="enqueued_at",
            end="started_at",
        ),
        shard_scoring=median_duration(
            ScoringShard.objects.filter(
                status=ScoringShard.Status.DONE, finished_at__gte=since, finished_at__lte=now
            ),
            start="started_at",
            end="finished_at",
        ),
    )


def median_duration(rows: QuerySet, *, start: str, end: str) -> Durations:
    """The median of ``end - start`` over ``rows``, computed in SQL.

    PostgreSQL: one ``percentile_cont`` aggregate. Elsewhere (the embedded SQLite): the rows
    are ordered by the duration in SQL and the middle one or two are fetched with OFFSET.
    """
    duration = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    if connection.vendor == "postgresql":
        found = rows.aggregate(n=Count("pk"), median=Median(duration))
        median = found["median"]
        return Durations(n=found["n"], median_s=median.total_seconds() if median else None)
    return median_duration_by_offset(rows, start=start, end=end)


def median_duration_by_offset(rows: QuerySet, *, start: str, end: str) -> Durations:
    """The portable median: ORDER BY the duration, then LIMIT/OFFSET to the middle."""
    duration = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    ordered = rows.annotate(duration=duration).order_by("duration")
    n = ordered.count()
    if n == 0:
        return Durations(n=0, median_s=None)
    middle = list(ordered.values_list("duration", flat=True)[(n - 1) // 2 : n // 2 + 1])
    return Durations(n=n, median_s=sum(d.total_seconds() for d in middle) / len(middle))


def _worker(row: WorkerHeartbeat, *, now: dt.datetime) -> WorkerStatus:
    since_seen = (now - row.last_seen).total_seconds()
    if row.stopped_at is not None:
        state = "stopped"
    elif since_seen > SILENT_AFTER_BEATS * settings.FLEET_HEARTBEAT_S:
        state = "silent"
    else:
        state = "busy" if row.task else "idle"
    return WorkerStatus(
        name=row.name,
        host=row.host,
        queues=[q for q in row.queues.split(",") if q],
        device=row.device,
        memory_total_mb=row.memory_total_mb,
        memory_used_mb=row.memory_used_mb,
        started_at=row.started_at,
        last_seen=row.last_seen,
        seconds_since_seen=max(0.0, since_seen),
        state=state,
        task=row.task,
        submission_id=str(row.submission_id) if row.submission_id else None,
        shard_index=row.shard_index,
        busy_seconds=(now - row.busy_since).total_seconds() if row.busy_since else None,
    )
