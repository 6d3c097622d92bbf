"""Submitted models, where each is in the scoring pipeline, and their scores."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from leaderboard.metrics import score_columns, score_indexes

from .challenges import Edition
from .teams import Team


def _submission_upload_to(instance: Submission, filename: str) -> str:
    # The participant's file name is never used on disk.
    return f"submissions/{instance.edition_id}/{instance.id}"


class Submission(models.Model):
    """One uploaded model for one edition, and where it is in the scoring pipeline."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SCORED = "scored", "Scored"
        FAILED = "failed", "Failed"

    class Moderation(models.TextChoices):
        NONE = "", "None"
        FLAGGED = "flagged", "Flagged"  # stays ranked, marked
        HIDDEN = "hidden", "Hidden"  # leaves the ranking
        DISQUALIFIED = "disqualified", "Disqualified"  # leaves the ranking

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="submissions")
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="submissions", null=True, blank=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="submissions",
        null=True,
        blank=True,
    )
    file = models.FileField(upload_to=_submission_upload_to, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    # How the scorer will feed and read this file, from its header at upload (ONNX only).
    model_io = models.CharField(max_length=300, blank=True)
    format = models.CharField(max_length=20, blank=True)
    arch = models.CharField(max_length=100, blank=True)
    method_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_baseline = models.BooleanField(default=False)
    method_year = models.PositiveIntegerField(null=True, blank=True)
    # A baseline the edition's host switched off: it leaves this edition's boards, charts and
    # exports until switched on again (``services.edition_baselines``).
    hidden_by_host = models.BooleanField(default=False)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Attempts made before the current run: a host's re-run starts a fresh count of attempts
    # (the attempt numbers keep growing, so a new run never meets an old run's shards).
    attempts_before_run = models.PositiveIntegerField(default=0)
    # Scoring runs a host asked for after the first (``services.host_control``).
    reruns = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)

    # Chosen by the team for the private leaderboard (none chosen: its best public entry).
    is_final = models.BooleanField(default=False)
    moderation = models.CharField(
        max_length=12, choices=Moderation.choices, default=Moderation.NONE, blank=True
    )
    moderation_reason = models.TextField(blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    moderated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["edition", "status"], name="submission_edition_status"),
            models.Index(fields=["team", "created_at"], name="submission_team_created"),
            models.Index(fields=["status", "deadline"], name="submission_status_deadline"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_baseline=True) | models.Q(team__isnull=False),
                name="submission_team_unless_baseline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("submission_detail", kwargs={"pk": self.pk})

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SCORED, self.Status.FAILED)

    @property
    def attempts_this_run(self) -> int:
        return self.attempts - self.attempts_before_run

    @property
    def is_ranked(self) -> bool:
        """Hidden and disqualified entries leave the leaderboards and the charts."""
        return self.moderation in RANKED_MODERATION


# Moderation states that keep an entry on the leaderboards.
RANKED_MODERATION = (Submission.Moderation.NONE, Submission.Moderation.FLAGGED)


# Score's metric columns (top1_error, public_top1_error, ..., robust_error), from the registry.
ScoreMetrics = type(
    "ScoreMetrics",
    (models.Model,),
    {"__module__": __name__, "Meta": type("Meta", (), {"abstract": True}), **score_columns()},
)


class Score(ScoreMetrics):
    """Errors of a scored submission, plus the evaluator's full record for reproducibility.

    This is the submission's current score, the one every board reads; a host's re-run moves it
    to ``SupersededScore`` and writes the new one here (``created_at`` then is the re-run's).

    Its metric columns come from the registry (``leaderboard.metrics``): ``<field>`` for the
    whole set, ``public_<field>`` and ``private_<field>`` for the parts; a value is null when
    that part of the test set is empty, or when the score predates the metric (or its track,
    for the robust error). A score exists only for a submission in state SCORED. The
    submission's edition, team, baseline flag and time are copied here (they never change) so
    that a team's best entry is one index probe: the leaderboard then costs the number of
    teams, not the number of submissions.
    """

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="score")
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="+", db_index=False)
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    is_baseline = models.BooleanField(default=False)
    submitted_at = models.DateTimeField()
    n_images = models.PositiveIntegerField()
    public_n_images = models.PositiveIntegerField(default=0)
    private_n_images = models.PositiveIntegerField(default=0)
    record = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            *score_indexes(),  # per metric and part: a team's best is its first index entry
            models.Index(fields=["edition", "is_baseline"], name="score_edition_baseline"),
        ]

    def __str__(self) -> str:
        return f"top-1 {self.top1_error:.4f}, top-5 {self.top5_error:.4f}"

    def save(self, *args, **kwargs) -> None:
        if self.edition_id is None:
            self.copy_from_submission()
        super().save(*args, **kwargs)

    def copy_from_submission(self) -> None:
        """Fill the copied columns from the submission (bulk_create callers call this)."""
        submission = self.submission
        self.edition_id = submission.edition_id
        self.team_id = submission.team_id
        self.is_baseline = submission.is_baseline
        self.submitted_at = submission.created_at


class SupersededScore(ScoreMetrics):
    """A score that a host's re-run replaced: the submission's history, never ranked now.

    The same metric and copied columns as ``Score``, so that a board frozen at a time can rank
    the score each submission held then (``selectors.ranking``): a row was current from
    ``scored_at`` until ``superseded_at``.
    """

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="superseded_scores"
    )
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="+", db_index=False)
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    is_baseline = models.BooleanField(default=False)
    submitted_at = models.DateTimeField()
    n_images = models.PositiveIntegerField()
    public_n_images = models.PositiveIntegerField(default=0)
    private_n_images = models.PositiveIntegerField(default=0)
    record = models.JSONField(default=dict)
    dataset_fingerprint = models.CharField(max_length=128, blank=True)
    scored_at = models.DateTimeField()
    superseded_at = models.DateTimeField()

    class Meta:
        ordering = ["-scored_at"]
        indexes = [
            models.Index(
                fields=["edition", "scored_at", "superseded_at"], name="superseded_edition_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} scored {self.scored_at:%Y-%m-%d %H:%M} (superseded)"


# The columns a Score and a SupersededScore share (what a ranking reads of either).
SCORE_SHARED_COLUMNS = (
    "submission_id",
    "edition_id",
    "team_id",
    "is_baseline",
    "submitted_at",
    "n_images",
    "public_n_images",
    "private_n_images",
    *score_columns(),
)
