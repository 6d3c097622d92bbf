"""The scoring fleet: slices of a large hidden set being scored, and the workers' heartbeats."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .submissions import Submission


class ScoringShard(models.Model):
    """One slice [start, stop) of a large hidden set, scored for one attempt of a submission.

    The row is the source of truth for the slice, as the submission's row is for the whole:
    claiming it (queued -> running) and finishing it (running -> done) are conditional updates,
    and the sweeper re-sends a shard whose worker was lost. The logits themselves live on the
    shared storage at a path fixed by (submission, attempt, index).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="shards")
    attempt = models.PositiveIntegerField()
    index = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    stop = models.PositiveIntegerField()
    queue = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    claims = models.PositiveIntegerField(default=0)  # deliveries that started it
    worker = models.CharField(max_length=200, blank=True)
    info = models.JSONField(default=dict, blank=True)  # device, timings, sandbox of the run
    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submission", "attempt", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "attempt", "index"], name="shard_once_per_attempt"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="shard_status_deadline"),
            models.Index(fields=["started_at"], name="shard_started"),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} attempt {self.attempt} shard {self.index} ({self.status})"


class WorkerHeartbeat(models.Model):
    """What a Celery worker last said about itself: written on a timer and at task start/end.

    A worker that stops writing (killed, network gone) simply ages; the fleet page shows how
    long ago each one was heard from.
    """

    name = models.CharField(max_length=200, unique=True)  # Celery node name, e.g. gpu1@host
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField(default=0)
    queues = models.CharField(max_length=500, blank=True)
    device = models.CharField(max_length=200, blank=True)  # GPU name, or the CPU's model
    memory_total_mb = models.PositiveIntegerField(null=True, blank=True)
    memory_used_mb = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    task = models.CharField(max_length=100, blank=True)
    submission_id = models.UUIDField(null=True, blank=True)  # plain value: rows come and go
    shard_index = models.IntegerField(null=True, blank=True)
    busy_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
