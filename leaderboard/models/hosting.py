"""What a host uploads from the browser (a test or training set, imported by a worker) and the
free model checks participants run before a submission counts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from .challenges import Challenge, Edition


class DatasetImport(models.Model):
    """One uploaded set, from the stored upload to a compiled set (or the reason it failed).

    The upload is kept apart from the compiled set; a failed import leaves the challenge as it
    was, and the host may upload again.
    """

    class Part(models.TextChoices):
        TEST = "test", "Hidden test set"
        TRAIN = "train", "Training set"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="imports")
    part = models.CharField(max_length=8, choices=Part.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Relative to settings.DATA_ROOT: the upload as received (never served for the test set).
    upload_path = models.CharField(max_length=500)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True)  # public fraction, seed, names file
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    fmt = models.CharField(max_length=20, blank=True)  # as detected from the upload
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    images_per_second = models.FloatField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    report = models.JSONField(default=dict, blank=True)  # class counts, images, fingerprint
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["challenge", "part", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.challenge.slug} {self.part} import ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


def _check_upload_to(instance: ModelCheck, filename: str) -> str:
    return f"checks/{instance.edition_id}/{instance.id}"


class ModelCheck(models.Model):
    """A model run on the public sample images only: never a score, never on a board."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"  # the report says whether the model would be scored
        FAILED = "failed", "Failed"  # the platform could not check it

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="checks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="model_checks"
    )
    file = models.FileField(upload_to=_check_upload_to, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    arch = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    report = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when a worker claims the check; past the deadline with no result, the sweeper fails it
    # (the worker died: killed, out of memory, machine lost).
    started_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"check {self.id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
