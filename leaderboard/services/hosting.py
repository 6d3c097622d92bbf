"""A challenge made from the browser: its rows, its uploaded sets kept on disk, their imports.

The request only stores the files and the rows; a worker on the ``default`` queue unpacks and
compiles each set (``leaderboard.workflows.imports``), so a large upload never ties up the web
process and a bad one fails on the host's page with the importer's message.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from leaderboard.evaluation.datasets import InputSpec
from leaderboard.metrics import DEFAULT_METRIC
from leaderboard.models import Challenge, DatasetImport

from .editions import edition_create
from .enqueue import default_queue_send

logger = logging.getLogger(__name__)
IMPORT_TASK = "leaderboard.tasks.import_dataset"
AUTO = "auto"


def challenge_create_hosted(
    *,
    user: AbstractBaseUser,
    title: str,
    slug: str,
    description: str,
    spec: InputSpec,
    public_fraction: float,
    seed: int,
    primary_metric: str,
    robustness: bool,
    year: int,
    closes_at: dt.datetime,
    class_names: list[str],
    test_set: UploadedFile,
    train_set: UploadedFile | None = None,
) -> Challenge:
    """Create the challenge and its first edition (hosted by ``user``) and queue the imports.

    ``primary_metric`` "auto" ranks by top-1 below 20 classes and top-5 from 20 up, decided when
    the test set's classes are known (``metrics.metric_for_classes``).
    """
    with transaction.atomic():
        challenge = Challenge.objects.create(
            slug=slug,
            title=title,
            description=description,
            input_spec=spec.to_dict(),
            primary_metric=DEFAULT_METRIC.key if primary_metric == AUTO else primary_metric,
            robustness=robustness,
            created_by=user,
        )
        edition_create(
            challenge=challenge,
            host=user,
            year=year,
            slug=str(year),
            opens_at=timezone.now(),
            closes_at=closes_at,
            join_required=False,
        )
        options = {"public_fraction": public_fraction, "seed": seed, "class_names": class_names}
        row = dataset_upload(
            challenge=challenge, part="test", upload=test_set, user=user, **options
        )
        if primary_metric == AUTO:
            row.options["metric_auto"] = True
            row.save(update_fields=["options"])
        if train_set is not None:
            dataset_upload(challenge=challenge, part="train", upload=train_set, user=user)
    return challenge


def dataset_upload(
    *,
    challenge: Challenge,
    part: str,
    upload: UploadedFile,
    user: AbstractBaseUser | None,
    public_fraction: float = 0.5,
    seed: int = 0,
    class_names: list[str] | None = None,
) -> DatasetImport:
    """Keep the uploaded file under DATA_ROOT and queue its import after the commit."""
    row = DatasetImport(
        challenge=challenge,
        part=part,
        uploaded_by=user if user is not None and user.is_authenticated else None,
        original_name=(upload.name or "upload")[:255],
        size_bytes=upload.size or 0,
        options={
            "public_fraction": public_fraction,
            "seed": seed,
            "class_names": list(class_names or []),
        },
    )
    relative = Path("uploads") / challenge.slug / str(row.id) / safe_name(upload.name or "")
    target = Path(settings.DATA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    _store(upload, target)
    row.upload_path = str(relative)
    row.save()
    transaction.on_commit(lambda: import_enqueue(import_id=row.id))
    return row


def safe_name(name: str) -> str:
    """The upload's base name reduced to safe characters; its extension decides the format."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip(".")[:120]
    return cleaned or "upload"


def _store(upload: UploadedFile, target: Path) -> None:
    """Move a streamed temporary file into place (a rename on one filesystem), else copy."""
    temporary = getattr(upload, "temporary_file_path", None)
    if temporary is not None:
        shutil.move(temporary(), target)
        return
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)


def import_enqueue(*, import_id: uuid.UUID | str) -> bool:
    """Send the import task to the ``default`` queue; False when the broker is down."""
    try:
        default_queue_send(task=IMPORT_TASK, arg=str(import_id))
    except OperationalError:
        logger.exception("could not queue the import %s", import_id)
        DatasetImport.objects.filter(pk=import_id, status=DatasetImport.Status.QUEUED).update(
            status=DatasetImport.Status.FAILED,
            error_message="The import could not be queued (the task queue is down). "
            "Please upload the file again in a few minutes.",
            finished_at=timezone.now(),
        )
        return False
    return True
