"""services.submission_create: rules of the edition, format detection, storage, the queue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from leaderboard import services
from leaderboard.errors import PLATFORM_ERROR, SubmissionRefused
from leaderboard.models import Membership, Submission, Team

from .conftest import queued_ids
from .factories import make_edition, onnx_upload, pickle_upload, unknown_upload


def _create(edition, user, upload=None, **kwargs) -> Submission:
    return services.submission_create(
        edition=edition,
        user=user,
        upload=upload or onnx_upload(),
        method_name="linear",
        **kwargs,
    )


def _stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.django_db(transaction=True)
def test_creates_a_queued_row_stores_the_file_and_enqueues_after_commit(
    edition, user, settings, gpu_queue
):
    submission = _create(edition, user, arch=" resnet18 ", description="first try")

    submission.refresh_from_db()
    assert submission.status == Submission.Status.QUEUED
    assert submission.format == "onnx"
    assert submission.arch == "resnet18"
    assert submission.original_name == "model.onnx"
    assert submission.file.name == f"submissions/{edition.pk}/{submission.pk}"
    assert Path(submission.file.path).read_bytes()[:1] == b"\x08"
    assert submission.enqueued_at is not None
    assert queued_ids(gpu_queue) == [str(submission.pk)]


def test_first_submission_creates_a_team_of_one_and_reuses_it(edition, user):
    first = _create(edition, user)
    second = _create(edition, user)
    assert first.team_id == second.team_id
    team = Team.objects.get()
    assert team.name == "alice"
    assert list(team.members.all()) == [user]
    assert Membership.objects.get().edition_id == edition.pk


def test_refused_before_opening_and_after_closing(challenge, user, settings):
    closed = make_edition(challenge=challenge, year=2020, open_now=False)
    with pytest.raises(SubmissionRefused) as info:
        _create(closed, user)
    assert info.value.code == "edition_closed"
    assert "no longer accepted" in info.value.message

    future = make_edition(challenge=challenge, year=2030)
    future.opens_at = timezone.now() + dt.timedelta(days=2)
    future.save()
    with pytest.raises(SubmissionRefused) as info:
        _create(future, user)
    assert info.value.code == "edition_not_open"
    assert Submission.objects.count() == 0
    assert _stored_files(settings) == []


def test_pickle_is_refused_with_the_evaluators_message(edition, user, settings):
    with pytest.raises(SubmissionRefused) as info:
        _create(edition, user, upload=pickle_upload("weights.pth"))
    assert info.value.code == "pickle_refused"
    assert info.value.message.startswith("weights.pth is a Python pickle")
    assert "torch.onnx.export" in info.value.message
    assert Submission.objects.count() == 0
    assert _stored_files(settings) == []


def test_unknown_format_is_refused_with_the_evaluators_message(edition, user, settings):
    with pytest.raises(SubmissionRefused) as info:
        _create(edition, user, upload=unknown_upload())
    assert info.value.code == "unsupported_format"
    assert "ONNX" in info.value.message
    assert Submission.objects.count() == 0
    assert _stored_files(settings) == []


def test_daily_and_total_limits(challenge, user):
    edition = make_edition(challenge=challenge, daily_limit=2, total_limit=4)
    now = timezone.now()
    yesterday = now - dt.timedelta(days=1)
    _create(edition, user, now=yesterday)
    _create(edition, user, now=now)
    _create(edition, user, now=now)
    with pytest.raises(SubmissionRefused) as info:
        _create(edition, user, now=now)
    assert info.value.code == "daily_limit"

    edition.daily_limit = 10
    edition.save()
    _create(edition, user, now=now)
    with pytest.raises(SubmissionRefused) as info:
        _create(edition, user, now=now)
    assert info.value.code == "total_limit"
    assert Submission.objects.count() == 4


def test_platform_failures_do_not_count_against_the_limits(challenge, user):
    edition = make_edition(challenge=challenge, daily_limit=1)
    first = _create(edition, user)
    Submission.objects.filter(pk=first.pk).update(
        status=Submission.Status.FAILED, error_code=PLATFORM_ERROR
    )
    _create(edition, user)  # allowed: the first failed through no fault of the team
    with pytest.raises(SubmissionRefused):
        _create(edition, user)


def test_file_larger_than_the_edition_allows_is_refused(challenge, user, settings):
    edition = make_edition(challenge=challenge, max_upload_mb=1)
    upload = onnx_upload()
    upload.size = 2 * 2**20
    with pytest.raises(SubmissionRefused) as info:
        _create(edition, user, upload=upload)
    assert info.value.code == "file_too_large"
    assert _stored_files(settings) == []


@pytest.mark.django_db(transaction=True)
def test_baseline_has_no_team_and_no_limits(edition, tmp_path, gpu_queue):
    model = tmp_path / "alexnet.onnx"
    model.write_bytes(onnx_upload().read())
    for _ in range(edition.total_limit + 1):
        baseline = services.baseline_submission_create(
            edition=edition, model_path=model, method_name="AlexNet", method_year=2012
        )
    assert baseline.is_baseline and baseline.team is None
    assert Submission.objects.filter(is_baseline=True).count() == edition.total_limit + 1
    assert len(queued_ids(gpu_queue)) == edition.total_limit + 1


def test_safetensors_weights_need_an_architecture(edition, user):
    import numpy as np
    from django.core.files.uploadedfile import SimpleUploadedFile
    from safetensors.numpy import save

    weights = save({"fc.weight": np.zeros((4, 64), dtype=np.float32)})
    with pytest.raises(SubmissionRefused) as info:
        _create(edition, user, upload=SimpleUploadedFile("w.safetensors", weights))
    assert info.value.code == "arch_required"

    upload = SimpleUploadedFile("w.safetensors", weights)
    assert _create(edition, user, upload=upload, arch="resnet18").format == "safetensors"
