"""A host's re-run that failed: the entry kept the score it had (``services.host_control``)."""

from __future__ import annotations

from django.db import models

from .challenges import Edition
from .submissions import Submission


class RerunFailure(models.Model):
    """One failed re-run of a scored entry: its error, kept in the entry's history.

    The entry goes back to scored with its previous score, which keeps ranking; this row says
    that the score was not confirmed on the set the re-run used (``dataset_fingerprint``), and
    why. ``attempt`` is the submission's attempt that failed (one row per attempt).
    """

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="rerun_failures"
    )
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="+", db_index=False)
    attempt = models.PositiveIntegerField()
    error_code = models.CharField(max_length=50)
    error_message = models.TextField(blank=True)
    dataset_fingerprint = models.CharField(max_length=128, blank=True)
    failed_at = models.DateTimeField()

    class Meta:
        ordering = ["-failed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "attempt"], name="rerun_failure_once_per_attempt"
            ),
        ]
        indexes = [models.Index(fields=["edition", "failed_at"], name="rerun_failure_edition")]

    def __str__(self) -> str:
        return f"re-run of {self.submission_id} failed ({self.error_code})"
