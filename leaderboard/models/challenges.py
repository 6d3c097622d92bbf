"""Challenges, their yearly editions, sample images and published reference results."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from leaderboard.metrics import DEFAULT_METRIC, Metric


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
    # Who made it from the browser; they host it (its editions, its imports) with the staff.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="challenges_created",
    )
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
    # Host control (``services.host_control``): uploads refused while paused (the closing
    # time stays); the public board shows the standings as at the freeze until the close.
    submissions_paused_at = models.DateTimeField(null=True, blank=True)
    board_frozen_at = models.DateTimeField(null=True, blank=True)

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
    def submissions_paused(self) -> bool:
        return self.submissions_paused_at is not None

    def board_frozen_as_of(self, *, now=None) -> dt.datetime | None:
        """The freeze time while the public board is frozen at ``now``; None otherwise (no
        freeze, a freeze still to come, or the edition closed: then everything is shown)."""
        now = now or timezone.now()
        frozen = self.board_frozen_at
        if frozen is None or now < frozen or self.is_closed(now=now):
            return None
        return frozen

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def display_name(self) -> str:
        """Named alone (headings, the API): the edition's title, else "Fashion-MNIST 2026"."""
        return self.title or str(self)

    @property
    def short_name(self) -> str:
        """Beside the challenge's name (pills, breadcrumbs): the edition's title, else its year."""
        return self.title or str(self.year)


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
