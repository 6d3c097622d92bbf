"""The shard sweeper: re-sends shards a lost worker or a lost message left behind, starts a
merge that never came, and removes shard files nobody needs any more.

Run every minute by Celery beat (``leaderboard.tasks.sweep_shards``) or by hand with
``manage.py sweep_shards``. Only shards of an attempt that is still running are looked at.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from leaderboard.logs import ids_in_words
from leaderboard.models import ScoringShard, Submission

from .dispatch import merge_send, shard_send
from .services import shard_fail_exhausted

Status = ScoringShard.Status
Running = Submission.Status.RUNNING
# Leave just-created, just-sent and just-finished work alone for this long.
GRACE = dt.timedelta(seconds=60)
BATCH = 500


@dataclass
class ShardSweepReport:
    resent: list[str] = field(default_factory=list)  # "submission:attempt:index"
    merged: list[str] = field(default_factory=list)  # submissions whose merge was sent
    failed: list[str] = field(default_factory=list)  # a shard out of claims failed its run
    unsent: list[str] = field(default_factory=list)  # the broker is still unreachable
    pruned: list[str] = field(default_factory=list)  # shard directories removed

    def as_dict(self) -> dict[str, list[str]]:
        return asdict(self)

    def summary(self) -> str:
        """What the sweep changed (or could not send), in words; "" when nothing."""
        parts = [
            ids_in_words(self.resent, "shard", "sent again, its worker lost"),
            ids_in_words(self.merged, "merge", "started, every shard done"),
            ids_in_words(self.failed, "submission", "failed, a shard out of attempts"),
            ids_in_words(self.unsent, "shard", "not sent, the broker is unreachable"),
            ids_in_words(self.pruned, "shard folder", "removed"),
        ]
        return "; ".join(part for part in parts if part)


def shard_sweep(*, now: dt.datetime | None = None) -> ShardSweepReport:
    """One pass over the shards of running attempts; see the module docstring."""
    now = now or timezone.now()
    report = ShardSweepReport()
    current = ScoringShard.objects.filter(
        submission__status=Running, submission__attempts=F("attempt")
    )

    for shard in current.filter(status=Status.RUNNING, deadline__lt=now)[:BATCH]:
        if shard.claims >= settings.SCORING_MAX_ATTEMPTS:
            shard_fail_exhausted(row=shard, now=now)
            report.failed.append(str(shard.submission_id))
            continue
        taken_back = ScoringShard.objects.filter(
            pk=shard.pk, status=Status.RUNNING, claims=shard.claims
        ).update(status=Status.QUEUED, enqueued_at=None, worker="", deadline=None)
        if taken_back:
            _resend(shard=shard, report=report)

    requeue_before = now - dt.timedelta(seconds=settings.SCORING_REQUEUE_AFTER_S)
    lost = current.filter(status=Status.QUEUED).filter(
        Q(enqueued_at__isnull=True, created_at__lt=now - GRACE) | Q(enqueued_at__lt=requeue_before)
    )
    for shard in lost[:BATCH]:
        if _key(shard) not in report.resent:
            _resend(shard=shard, report=report)

    for submission_id, attempt in _unmerged(now=now)[:BATCH]:
        if merge_send(submission_id=submission_id, attempt=attempt):
            report.merged.append(str(submission_id))

    report.pruned = _prune(now=now)
    return report


def _unmerged(*, now: dt.datetime):
    """(submission, attempt) of running sharded attempts whose shards all finished a while ago."""
    this_attempt = Q(shards__attempt=F("attempts"))
    return (
        Submission.objects.filter(status=Running, deadline__isnull=True)
        .annotate(
            total=Count("shards", filter=this_attempt),
            done=Count("shards", filter=this_attempt & Q(shards__status=Status.DONE)),
            last=Max("shards__finished_at", filter=this_attempt),
        )
        .filter(total__gt=0, done=F("total"), last__lt=now - GRACE)
        .values_list("pk", "attempts")
    )


def _prune(*, now: dt.datetime) -> list[str]:
    """Remove directories of finished submissions and of attempts no longer running."""
    root = Path(settings.SCORING_SHARD_DIR)
    if not root.is_dir():
        return []
    old = (now - GRACE).timestamp()
    folders = {}
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < old:
                folders[str(uuid.UUID(folder.name))] = folder
        except (ValueError, OSError):
            continue  # not ours, or gone meanwhile
    running = dict(
        Submission.objects.filter(pk__in=list(folders), status=Running).values_list(
            "pk", "attempts"
        )
    )
    pruned = []
    for key, folder in list(folders.items())[:BATCH]:
        attempts = running.get(uuid.UUID(key))
        stale = [folder] if attempts is None else _other_attempts(folder, attempts)
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
            pruned.append(f"{key}/{path.name}" if path != folder else key)
    return pruned


def _other_attempts(folder: Path, attempts: int) -> list[Path]:
    return [
        path for path in folder.iterdir() if path.is_dir() and path.name != f"attempt-{attempts}"
    ]


def _resend(*, shard: ScoringShard, report: ShardSweepReport) -> None:
    if shard_send(shard=shard):
        report.resent.append(_key(shard))
    else:
        report.unsent.append(_key(shard))


def _key(shard: ScoringShard) -> str:
    return f"{shard.submission_id}:{shard.attempt}:{shard.index}"
