"""Importing a set a host uploaded: unpack within caps, recognise, compile, then switch over.

Runs on a worker of the ``default`` queue. The host's page follows ``DatasetImport``'s counters;
a refused or broken upload ends as ``failed`` with the importer's message (the file and the
problem), the challenge keeps whatever set it had, and no unpacked or half-compiled folder is
left behind.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from leaderboard import services
from leaderboard.evaluation.datasets import DatasetError, InputSpec
from leaderboard.evaluation.uploads import detect_upload
from leaderboard.metrics import metric_for_classes
from leaderboard.models import Challenge, DatasetImport
from leaderboard.services import hosting as hosting_services

logger = logging.getLogger(__name__)
Status = DatasetImport.Status
PLATFORM_MESSAGE = "The import stopped because of a problem on the platform. Please upload again."


def import_dataset(*, import_id: str) -> str:
    """Run one queued import; returns its final status ("done", "failed") or "skipped"."""
    claimed = DatasetImport.objects.filter(pk=import_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return "skipped"  # a duplicate delivery, or finished already
    row = DatasetImport.objects.select_related("challenge").get(pk=import_id)
    if _must_wait(row):
        return "waiting"
    upload = Path(settings.DATA_ROOT) / row.upload_path
    unpack_parent = Path(tempfile.mkdtemp(prefix="unpack-", dir=upload.parent))
    try:
        found = detect_upload(
            upload=upload,
            unpack_dir=unpack_parent / "content",
            max_files=settings.DATASET_UNPACK_MAX_FILES,
            max_bytes=settings.DATASET_UNPACK_MAX_BYTES,
        )
        DatasetImport.objects.filter(pk=row.pk).update(fmt=found.fmt)
        report = _compile(row, fmt=found.fmt, source=found.source, found=found.found)
    except DatasetError as exc:
        return _fail(row, message=exc.message)
    except Exception:
        logger.exception("import %s of %s crashed on the worker", row.pk, row.challenge.slug)
        return _fail(row, message=PLATFORM_MESSAGE)
    finally:
        shutil.rmtree(unpack_parent, ignore_errors=True)
    DatasetImport.objects.filter(pk=row.pk).update(
        status=Status.DONE, report=report, finished_at=timezone.now()
    )
    if row.part == DatasetImport.Part.TEST:
        if (row.options or {}).get("metric_auto"):
            challenge = Challenge.objects.get(pk=row.challenge_id)
            Challenge.objects.filter(pk=challenge.pk).update(
                primary_metric=metric_for_classes(challenge.num_classes)
            )
        _queue_waiting_training_sets(row.challenge)
        _enter_baselines(row.challenge)
    return "done"


def _compile(row: DatasetImport, *, fmt: str, source: Path, found: str) -> dict:
    challenge = row.challenge
    if row.part == DatasetImport.Part.TRAIN and not challenge.dataset_path:
        raise DatasetError(
            "the training set is imported after the hidden test set (its classes and input "
            "size come from it): upload the test set, then the training set again"
        )
    progress = _Progress(row)
    options = row.options or {}
    with tempfile.TemporaryDirectory(prefix="names-", dir=Path(settings.DATA_ROOT)) as tmp:
        names_file = _names_file(Path(tmp), options.get("class_names") or [])
        if row.part == DatasetImport.Part.TEST:
            report = services.challenge_import_dataset(
                challenge=challenge,
                fmt=fmt,
                source=source,
                spec=InputSpec.from_dict(challenge.input_spec),
                public_fraction=float(options.get("public_fraction", 0.5)),
                seed=int(options.get("seed", 0)),
                class_names_file=names_file,
                on_progress=progress,
            )
        else:
            report = services.challenge_import_training(
                challenge=challenge, fmt=fmt, source=source, on_progress=progress
            )
    progress.finish()
    return {
        **services.dataset_summary(challenge=challenge, part=row.part),
        "found": found,
        "fingerprint": report.fingerprint,
        "skipped": report.n_skipped,
        "seconds": round(report.seconds, 2),
    }


def _names_file(folder: Path, names: list[str]) -> Path | None:
    if not names:
        return None
    path = folder / "class_names.txt"
    path.write_text("\n".join(names) + "\n", encoding="utf-8")
    return path


class _Progress:
    """Writes images done, total and the rate to the row (the evaluator calls it ~2/s)."""

    def __init__(self, row: DatasetImport) -> None:
        self.row_id = row.pk
        self.started = time.monotonic()
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 and done else None
        DatasetImport.objects.filter(pk=self.row_id).update(
            done=done, total=total, images_per_second=rate
        )

    def finish(self) -> None:
        elapsed = time.monotonic() - self.started
        if self.done and elapsed > 0:
            DatasetImport.objects.filter(pk=self.row_id).update(
                images_per_second=self.done / elapsed
            )


def _must_wait(row: DatasetImport) -> bool:
    """A training set waits (queued) while its challenge's first test set is still coming."""
    if row.part != DatasetImport.Part.TRAIN or row.challenge.dataset_path:
        return False
    pending = row.challenge.imports.filter(
        part=DatasetImport.Part.TEST, status__in=(Status.QUEUED, Status.RUNNING)
    ).exists()
    if pending:
        DatasetImport.objects.filter(pk=row.pk).update(
            status=Status.QUEUED, started_at=None, options={**row.options, "waiting_for_test": True}
        )
    return pending


def _fail(row: DatasetImport, *, message: str) -> str:
    DatasetImport.objects.filter(pk=row.pk).update(
        status=Status.FAILED, error_message=message, finished_at=timezone.now()
    )
    return "failed"


def _enter_baselines(challenge: Challenge) -> None:
    """Open editions get the challenge's baselines on the set just imported (copied scores
    where they were scored on it, else queued); the import stays done if this fails."""
    try:
        services.challenge_baselines_enter(challenge=Challenge.objects.get(pk=challenge.pk))
    except Exception:
        logger.exception("baselines of %s not entered after its import", challenge.slug)


def _queue_waiting_training_sets(challenge: Challenge) -> None:
    """Training sets that waited for this test set are sent again, now that it is in."""
    for row in challenge.imports.filter(
        part=DatasetImport.Part.TRAIN, status=Status.QUEUED, options__waiting_for_test=True
    ):
        options = {k: v for k, v in row.options.items() if k != "waiting_for_test"}
        DatasetImport.objects.filter(pk=row.pk).update(options=options)
        hosting_services.import_enqueue(import_id=row.pk)
