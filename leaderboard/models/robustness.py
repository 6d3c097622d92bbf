"""The robustness track's own run of a scored entry, after its clean score is on the board.

The clean score is recorded as soon as the clean set is scored; the transformed copies (about
13 times the images) are scored afterwards by a task of their own (``workflows.robustness``).
This row is that task's state: what the sweeper looks at, what the submission page shows while
it waits, and why it failed if it did. A failure never touches the clean score.
"""

from __future__ import annotations

from django.db import models

from .submissions import Submission


class RobustnessRun(models.Model):
    """One scored entry's robustness measurement: pending, running, done or failed.

    ``generation`` grows each time the entry's score is recorded again (a host's re-run): a
    worker still measuring the old score holds the old generation, and its result is refused.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Being measured"
        DONE = "done", "Measured"
        FAILED = "failed", "Not measured"

    submission = models.OneToOneField(
        Submission, on_delete=models.CASCADE, related_name="robustness_run"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    generation = models.PositiveIntegerField(default=1)
    attempts = models.PositiveIntegerField(default=0)  # of this generation
    worker = models.CharField(max_length=200, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    opened_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                fields=["status", "enqueued_at"],
                name="robustness_run_waiting",
                condition=models.Q(status__in=["pending", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"robustness of {self.submission_id}: {self.status}"

    @property
    def waiting(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)
