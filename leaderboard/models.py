"""Challenges, their yearly editions, teams, submitted models and their scores."""

from __future__ import annotations

import uuid
import zoneinfo
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from leaderboard.metrics import DEFAULT_METRIC, Metric, score_columns, score_indexes


class Precision(models.TextChoices):
    FP32 = "fp32", "fp32"
    BF16 = "bf16", "bf16"


class Challenge(models.Model):
    """A task with a hidden test set compiled once to a fixed input spec."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Relative to settings.DATA_ROOT, so workers may mount the data tree elsewhere.
    dataset_path = models.CharField(max_length=500, blank=True)
    dataset_fingerprint = models.CharField(max_length=128, blank=True)
    n_test_images = models.PositiveIntegerField(default=0)
    input_spec = models.JSONField(default=dict, blank=True)
    class_names = models.JSONField(default=list, blank=True)
    primary_metric = models.CharField(
        max_length=8,
        choices=Metric.choices,
        default=DEFAULT_METRIC.key,
        help_text="The metric that ranks its boards (ILSVRC: top-5 error).",
    )
    precision = models.CharField(max_length=8, choices=Precision.choices, default=Precision.FP32)
    train_data_path = models.CharField(max_length=500, blank=True)
    train_data_format = models.CharField(max_length=40, blank=True)
    robustness = models.BooleanField(
        default=False,
        help_text=(
            "Also score every submission on transformed copies of the hidden set (rotation, "
            "scale, lighting, blur, noise): the robustness track. Compile the copies with "
            "`manage.py robustness_enable`."
        ),
    )
    # One public sample image under each transform, for submission pages (written by
    # services.robustness): {"sample": id, "label_name": ..., "images": {name: storage path}}.
    robustness_samples = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("challenge_detail", kwargs={"slug": self.slug})

    @property
    def dataset_dir(self) -> Path | None:
        return Path(settings.DATA_ROOT) / self.dataset_path if self.dataset_path else None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _sample_upload_to(instance: SampleImage, filename: str) -> str:
    return f"samples/{instance.challenge.slug}/{filename}"


class SampleImage(models.Model):
    """A labelled image from the training split, shown so participants see what inputs look like."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="samples")
    image = models.FileField(upload_to=_sample_upload_to)
    label = models.PositiveIntegerField()
    label_name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["challenge", "position", "id"]

    def __str__(self) -> str:
        return f"{self.challenge.slug} sample {self.position}: {self.label_name}"


def validate_time_zone(value: str) -> None:
    """An IANA zone name this Python knows (``Europe/Paris``, ``UTC``)."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Paris).")


class Edition(models.Model):
    """One year of a challenge: its own participants, deadlines and limits."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="editions")
    year = models.PositiveIntegerField()
    slug = models.SlugField()
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    daily_limit = models.PositiveIntegerField(default=5, help_text="Submissions per team per day.")
    total_limit = models.PositiveIntegerField(default=100, help_text="Submissions per team.")
    public_fraction = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Public share of the hidden set (applied at import).",
    )
    max_upload_mb = models.PositiveIntegerField(default=500)

    # Classrooms: who runs it, how students get in, teams and the final selection.
    title = models.CharField(max_length=200, blank=True, help_text="e.g. a course name.")
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hosted_editions",
        help_text="Runs this edition: moderates entries and exports the standings.",
    )
    time_zone = models.CharField(
        max_length=64,
        default=settings.TIME_ZONE,
        validators=[validate_time_zone],
        help_text="Dates are shown, and the daily limit resets at midnight, in this zone.",
    )
    join_code = models.CharField(max_length=32, blank=True)
    join_required = models.BooleanField(
        default=False, help_text="Only users who joined with the code may submit."
    )
    max_team_size = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text="Members per team."
    )
    final_submissions = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1)],
        help_text="Entries a team may select for the private leaderboard.",
    )

    class Meta:
        ordering = ["challenge", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "slug"], name="edition_unique_slug"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="edition_closes_after_opening",
            ),
            models.UniqueConstraint(
                fields=["join_code"],
                condition=~models.Q(join_code=""),
                name="edition_unique_join_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.challenge.title} {self.year}"

    def get_absolute_url(self) -> str:
        return reverse(
            "edition_leaderboard",
            kwargs={"slug": self.challenge.slug, "edition": self.slug},
        )

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 2**20

    def is_open(self, *, now=None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now < self.closes_at

    def is_closed(self, *, now=None) -> bool:
        return (now or timezone.now()) >= self.closes_at

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def display_name(self) -> str:
        return self.title or str(self)


class Team(models.Model):
    """Users competing together in one edition; a solo student is a team of one."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=150)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )
    # Given to teammates: whoever enters it joins, while the team has room.
    join_code = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["edition", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["join_code"],
                condition=~models.Q(join_code=""),
                name="team_unique_join_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in a team; at most one team per user and edition."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # Copied from the team so the database can enforce one team per user and edition.
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["edition", "user"], name="membership_one_team"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class Participant(models.Model):
    """A user admitted to an edition (with its code when one is required)."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["edition", "joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "user"], name="participant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.edition}"


class TeamInvitation(models.Model):
    """A member asks another user to join the team; the invitee accepts or declines."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"],
                condition=models.Q(status="pending"),
                name="invitation_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} to {self.team} ({self.status})"


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
    format = models.CharField(max_length=20, blank=True)
    arch = models.CharField(max_length=100, blank=True)
    method_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_baseline = models.BooleanField(default=False)
    method_year = models.PositiveIntegerField(null=True, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
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


class ReferenceResult(models.Model):
    """A published result (e.g. an ILSVRC winner), shown as "reported", never as our score.

    Errors are fractions like ours (0.1642 for 16.42%); at least one of them is given.
    """

    challenge = models.ForeignKey(
        Challenge, on_delete=models.CASCADE, related_name="reference_results"
    )
    year = models.PositiveIntegerField()
    team = models.CharField(max_length=200)
    method = models.CharField(max_length=300, blank=True)
    top5_error = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    top1_error = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    note = models.TextField(blank=True)
    source = models.TextField(help_text="Where the number comes from (paper, results page).")

    class Meta:
        ordering = ["challenge", "year", "top5_error"]
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "year", "team"], name="reference_result_once"
            ),
            models.CheckConstraint(
                condition=models.Q(top5_error__isnull=False) | models.Q(top1_error__isnull=False),
                name="reference_result_has_error",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.team} (reported)"


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


class ApiToken(models.Model):
    """A user's API token, kept as its SHA-256 digest: the database never holds the token.

    ``prefix`` (the token's first characters) lets the owner recognise which token this is; it
    is far too short to sign in with. ``created`` starts the expiry (API_TOKEN_TTL_DAYS).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token"
    )
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the whole token
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
