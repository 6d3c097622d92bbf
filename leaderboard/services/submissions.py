"""Creating submissions: the edition's rules, format detection, storage, then the queue."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from leaderboard.errors import SubmissionRefused
from leaderboard.evaluation.formats import (
    ModelFormat,
    UnsupportedFormat,
    detect_format,
    model_io_check,
)
from leaderboard.models import Challenge, Edition, Submission, Team
from leaderboard.selectors.classroom import edition_admits
from leaderboard.selectors.quota import quota_usage

from .activity import activity_refresh
from .enqueue import submission_enqueue
from .teams import team_get_or_create_solo


def submission_create(
    *,
    edition: Edition,
    user: AbstractBaseUser,
    upload: UploadedFile,
    method_name: str,
    description: str = "",
    arch: str = "",
    now: dt.datetime | None = None,
) -> Submission:
    """Store a participant's model and queue it for scoring, or raise SubmissionRefused.

    The team row is locked while its submissions are counted and the new one is inserted, so
    the daily and total limits hold exactly under parallel uploads (PostgreSQL row locks).
    """
    now = now or timezone.now()
    _check_open(edition=edition, now=now)
    _check_not_paused(edition=edition)
    _check_admitted(edition=edition, user=user)
    _check_size(edition=edition, size=upload.size)
    model_format, model_io = _detect_with_io(upload=upload, challenge=edition.challenge)
    _check_arch(model_format=model_format, arch=arch)
    team = team_get_or_create_solo(edition=edition, user=user)
    with _file_removed_on_rollback() as stored, transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).get()
        _check_limits(edition=edition, team=team, now=now)
        submission = Submission(
            edition=edition,
            team=team,
            submitted_by=user,
            format=model_format,
            model_io=(model_io or "")[:300],
            arch=arch.strip(),
            method_name=method_name.strip(),
            description=description.strip(),
            original_name=(upload.name or "")[:255],
            size_bytes=upload.size,
            created_at=now,
        )
        stored.append(submission)
        _store(submission=submission, content=upload)
        activity_refresh(edition_id=edition.pk, moments=[submission.created_at])
    return submission


def baseline_submission_create(
    *,
    edition: Edition,
    model_path: Path,
    method_name: str,
    method_year: int | None = None,
    arch: str = "",
    description: str = "",
) -> Submission:
    """Queue a host-provided reference model: no team, no limits, shown marked on the board."""
    with open(model_path, "rb") as fh:
        upload = File(fh, name=Path(model_path).name)
        model_format = _detect(upload=upload, challenge=edition.challenge)
        with _file_removed_on_rollback() as stored, transaction.atomic():
            submission = Submission(
                edition=edition,
                is_baseline=True,
                method_year=method_year,
                format=model_format,
                arch=arch,
                method_name=method_name,
                description=description,
                original_name=Path(model_path).name,
                size_bytes=Path(model_path).stat().st_size,
            )
            stored.append(submission)
            _store(submission=submission, content=upload)
    return submission


def _store(*, submission: Submission, content: File) -> None:
    """Save file and row in the caller's transaction; enqueue once that transaction commits.

    A temporary upload is moved, not copied, into MEDIA_ROOT/submissions/<edition>/<uuid>.
    The caller's ``_file_removed_on_rollback`` deletes the file if the transaction fails.
    """
    submission.file.save(str(submission.id), content, save=False)
    submission.save(force_insert=True)
    transaction.on_commit(partial(submission_enqueue, submission_id=submission.id))


@contextmanager
def _file_removed_on_rollback() -> Iterator[list[Submission]]:
    """Wraps ``atomic()``: if the block or its commit fails, the files stored in it go too."""
    stored: list[Submission] = []
    try:
        yield stored
    except BaseException:
        for submission in stored:
            if submission.file.name:
                submission.file.delete(save=False)
        raise


def _check_open(*, edition: Edition, now: dt.datetime) -> None:
    if now < edition.opens_at:
        opens = timezone.localtime(edition.opens_at, edition.tzinfo).strftime("%Y-%m-%d %H:%M %Z")
        raise SubmissionRefused(
            f"{edition.display_name} opens on {opens}.", code="edition_not_open"
        )
    if now >= edition.closes_at:
        closed = timezone.localtime(edition.closes_at, edition.tzinfo).strftime("%Y-%m-%d %H:%M %Z")
        raise SubmissionRefused(
            f"{edition.display_name} closed on {closed}; submissions are no longer accepted.",
            code="edition_closed",
        )


def submissions_paused_message(*, edition: Edition) -> str:
    """The refusal while a host has paused uploads (``services.host_control``)."""
    closes = timezone.localtime(edition.closes_at, edition.tzinfo).strftime("%Y-%m-%d %H:%M %Z")
    return (
        f"Submissions are paused by the host of {edition.display_name}; try again once the "
        f"host resumes them. The closing time is unchanged: {closes}."
    )


def _check_not_paused(*, edition: Edition) -> None:
    if edition.submissions_paused:
        raise SubmissionRefused(
            submissions_paused_message(edition=edition), code="submissions_paused"
        )


def _check_size(*, edition: Edition, size: int | None) -> None:
    if not size:
        raise SubmissionRefused("The uploaded file is empty.", code="empty_file")
    if size > edition.max_upload_bytes:
        raise SubmissionRefused(
            f"The file is {size / 2**20:.1f} MB; this edition accepts at most "
            f"{edition.max_upload_mb} MB.",
            code="file_too_large",
        )


def _check_limits(*, edition: Edition, team: Team, now: dt.datetime) -> None:
    """Count the team's submissions as ``selectors.quota`` does (platform failures are free)."""
    usage = quota_usage(edition=edition, team_id=team.pk, now=now)
    if usage.total >= edition.total_limit:
        raise SubmissionRefused(
            f"Your team has used all {edition.total_limit} submissions of {edition.display_name}.",
            code="total_limit",
        )
    if usage.today >= edition.daily_limit:
        raise SubmissionRefused(
            f"Your team has used its {edition.daily_limit} submissions for today "
            f"({edition.time_zone}); try again tomorrow.",
            code="daily_limit",
        )


def _check_admitted(*, edition: Edition, user: AbstractBaseUser) -> None:
    """An edition that requires its join code takes submissions from those who joined only."""
    if not edition_admits(edition=edition, user=user):
        raise SubmissionRefused(
            f"{edition.display_name} is open to invited participants: join it with the code "
            "your instructor gave you first.",
            code="join_required",
        )


def _check_arch(*, model_format: str, arch: str) -> None:
    """Weights alone cannot be run: refuse now rather than fail minutes later on a worker."""
    if model_format == ModelFormat.SAFETENSORS and not arch.strip():
        raise SubmissionRefused(
            "A safetensors file holds weights only; give the architecture name "
            "(for example resnet18) so the platform can build the network.",
            code="arch_required",
        )


def _detect(*, upload: File, challenge: Challenge) -> str:
    """The model format of ``upload`` (see ``_detect_with_io``)."""
    return _detect_with_io(upload=upload, challenge=challenge)[0]


def _detect_with_io(*, upload: File, challenge: Challenge) -> tuple[str, str | None]:
    """Detect the model format from the file's content with the evaluator's own rules; for an
    ONNX file, also the input and output the scorer will use for this challenge (returned, to be
    shown before the score), so that a file that can never load is refused here, before it
    counts (``model_io_check``)."""
    with _local_path(upload) as path:
        try:
            model_format = detect_format(path)
            model_io = model_io_check(
                path,
                fmt=model_format,
                input_spec=challenge.input_spec,
                num_classes=challenge.num_classes,
            )
        except UnsupportedFormat as exc:  # PickleRefused included
            # The evaluator names the file it read: our temporary copy, not the participant's.
            message = exc.message.replace(path.name, Path(upload.name or "model").name)
            raise SubmissionRefused(message, code=exc.code) from exc
    return str(model_format), model_io


@contextmanager
def _local_path(upload: File) -> Iterator[Path]:
    """A path to the upload's bytes: the streamed temporary file, or a spooled copy."""
    temporary_path = getattr(upload, "temporary_file_path", None)
    if temporary_path is not None:
        yield Path(temporary_path())
        return
    real_path = getattr(upload.file, "name", None)
    if isinstance(real_path, str) and Path(real_path).is_file():
        yield Path(real_path)
        return
    with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as spool:
        for chunk in upload.chunks():
            spool.write(chunk)
        spool.flush()
        upload.seek(0)
        yield Path(spool.name)
