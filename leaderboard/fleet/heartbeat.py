"""Heartbeat rows: each worker says who it is, what it runs on and what it is doing.

Written by the worker's main process when it is ready, then on a timer, and by its pool
process at each task's start and end (``leaderboard.fleet.signals``). One row per Celery node
name, updated in place: the table holds one row per worker, not one per beat.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from leaderboard.models import WorkerHeartbeat

from .device import DeviceFacts


def heartbeat_online(
    *, name: str, host: str, pid: int, queues: list[str], device: DeviceFacts
) -> None:
    """A worker is ready: (re)write its row, idle, with its queues and device."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        name=name[:200],
        defaults={
            "host": host[:200],
            "pid": pid,
            "queues": ",".join(queues)[:500],
            "device": device.name[:200],
            "memory_total_mb": device.memory_total_mb,
            "memory_used_mb": device.memory_used_mb,
            "started_at": now,
            "last_seen": now,
            "stopped_at": None,
            "task": "",
            "submission_id": None,
            "shard_index": None,
            "busy_since": None,
        },
    )


def heartbeat_beat(*, name: str, memory_used_mb: int | None) -> bool:
    """The timer's beat: still alive, and how much device memory is in use now."""
    return bool(
        WorkerHeartbeat.objects.filter(name=name).update(
            last_seen=timezone.now(), memory_used_mb=memory_used_mb
        )
    )


def heartbeat_busy(
    *, name: str, task: str, submission_id: uuid.UUID | str | None, shard_index: int | None
) -> None:
    """A task started on this worker."""
    now = timezone.now()
    WorkerHeartbeat.objects.filter(name=name).update(
        last_seen=now,
        task=task[:100],
        submission_id=_uuid_or_none(submission_id),
        shard_index=shard_index,
        busy_since=now,
    )


def heartbeat_idle(*, name: str) -> None:
    """The task ended (whatever its outcome)."""
    WorkerHeartbeat.objects.filter(name=name).update(
        last_seen=timezone.now(), task="", submission_id=None, shard_index=None, busy_since=None
    )


def heartbeat_offline(*, name: str, now: dt.datetime | None = None) -> None:
    """A warm shutdown: the worker says goodbye instead of going silent."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.filter(name=name).update(last_seen=now, stopped_at=now)


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None
