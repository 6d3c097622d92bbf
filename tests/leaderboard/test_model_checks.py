"""Free model checks through the site's service and workflow (called directly, no Celery eager
mode): the hourly cap, never a submission, the report a real submission's error matches."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from leaderboard import services, workflows
from leaderboard.errors import SubmissionRefused
from leaderboard.models import ModelCheck, SampleImage, Score, Submission
from leaderboard.selectors import quota_usage

from . import checks_helpers
from .checks_helpers import (
    NAMES,
    linear_onnx,
    linear_torchscript,
    queued_checks,
    ten_class_edition,
)
from .factories import make_team, make_user, pickle_upload, unknown_upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]
check_queue = checks_helpers.check_queue


@pytest.fixture
def edition(tmp_path):
    return ten_class_edition(tmp_path / "ten")


def upload_of(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def create(edition, user, path: Path, **kwargs) -> ModelCheck:
    return services.model_check_create(edition=edition, user=user, upload=upload_of(path), **kwargs)


def test_a_good_model_is_done_with_five_guesses_per_sample(
    edition, user, tmp_path, settings, check_queue
):
    model = linear_onnx(tmp_path / "good.onnx")
    check = create(edition, user, model)

    stored = Path(check.file.path)
    assert stored.is_file() and check.status == "queued" and check.original_name == "good.onnx"
    assert queued_checks(check_queue, settings.CELERY_TASK_DEFAULT_QUEUE) == [str(check.pk)]

    assert workflows.check_model(check_id=str(check.pk)) == "done"

    check.refresh_from_db()
    report = check.report
    assert check.status == "done" and check.finished_at is not None
    assert report["ok"] and report["loads"] and report["format"] == "onnx"
    assert report["output_shape"] == report["expected_shape"] == [10, 10]
    assert report["error_code"] is None and report["seconds_per_image"] > 0
    samples = list(SampleImage.objects.filter(challenge=edition.challenge).order_by("position"))
    assert report["sample_ids"] == [s.pk for s in samples]
    assert [s["label_name"] for s in report["samples"]] == [s.label_name for s in samples]
    for sample in report["samples"]:
        assert len(sample["guesses"]) == 5
        assert {g["name"] for g in sample["guesses"]} <= set(NAMES)
    # Checks are not kept: the file is gone, the row says so.
    assert not stored.exists() and check.file.name == ""
    # A second delivery of the same message does nothing.
    assert workflows.check_model(check_id=str(check.pk)) == "skipped"


def scored_error(edition, user, model: Path) -> tuple[str, str]:
    """What a real submission of ``model`` gets: its refusal, or the scored run's failure."""
    try:
        submission = services.submission_create(
            edition=edition, user=user, upload=upload_of(model), method_name="the same file"
        )
    except SubmissionRefused as exc:
        return exc.code, exc.message
    workflows.score_submission(submission_id=str(submission.pk), worker="test")
    submission.refresh_from_db()
    assert submission.status == "failed"
    return submission.error_code, submission.error_message


def test_a_wrong_output_shape_gets_a_real_submissions_code_and_message(
    edition, user, tmp_path, check_queue, gpu_queue
):
    model = linear_torchscript(tmp_path / "three.pt", classes=3)
    check = create(edition, user, model)
    assert workflows.check_model(check_id=str(check.pk)) == "done"
    check.refresh_from_db()

    report = check.report
    assert check.status == "done" and report["ok"] is False and report["loads"] is True
    assert report["format"] == "torchscript" and report["error_code"] == "model_check_failed"
    assert (report["error_code"], report["error_message"]) == scored_error(edition, user, model)
    assert "[10, 3]" in report["error_message"] and report["expected_shape"] == [10, 10]
    assert report["samples"] == [] and report["output_shape"] is None


def test_an_onnx_file_of_the_wrong_shape_is_told_what_a_submission_is_told(
    edition, user, tmp_path, check_queue, gpu_queue
):
    """Refused at upload where the submit form reads the shape from the header, else run."""
    model = linear_onnx(tmp_path / "three.onnx", classes=3)
    try:
        check = create(edition, user, model)
    except SubmissionRefused as exc:
        told = (exc.code, exc.message)
    else:
        assert workflows.check_model(check_id=str(check.pk)) == "done"
        check.refresh_from_db()
        told = (check.report["error_code"], check.report["error_message"])
    assert told == scored_error(edition, user, model)
    assert "3" in told[1] and "10" in told[1]


def test_a_check_never_uses_a_submission(edition, user, tmp_path, check_queue, gpu_queue):
    edition.daily_limit = 1
    edition.save()
    team = make_team(edition=edition, name="solo", users=[user])
    services.submission_create(
        edition=edition, user=user, upload=upload_of(linear_onnx(tmp_path / "a.onnx")),
        method_name="the day's one",
    )  # fmt: skip
    before = quota_usage(edition=edition, team_id=team.pk)
    assert before.left_today == 0

    for name, classes in (("good.onnx", 10), ("bad.onnx", 4)):
        check = create(edition, user, linear_onnx(tmp_path / name, classes=classes))
        assert workflows.check_model(check_id=str(check.pk)) == "done"

    after = quota_usage(edition=edition, team_id=team.pk)
    assert (after.today, after.total) == (before.today, before.total) == (1, 1)
    assert Submission.objects.count() == 1 and Score.objects.count() == 0
    assert ModelCheck.objects.filter(status="done").count() == 2


def test_over_the_hourly_cap_is_refused_with_when_to_come_back(
    edition, user, tmp_path, settings, check_queue
):
    settings.MODEL_CHECKS_PER_HOUR = 2
    model = linear_onnx(tmp_path / "m.onnx")
    first, second = create(edition, user, model), create(edition, user, model)
    now = timezone.now()
    ModelCheck.objects.filter(pk=first.pk).update(created_at=now - dt.timedelta(minutes=50))

    with pytest.raises(SubmissionRefused) as refused:
        create(edition, user, model, now=now)
    assert refused.value.code == "check_limit"
    again = timezone.localtime(now + dt.timedelta(minutes=10), edition.tzinfo).strftime("%H:%M")
    assert f"check again at {again}" in refused.value.message
    assert "in about 10 minutes" in refused.value.message
    assert ModelCheck.objects.count() == 2

    # Another user has checks of their own; a platform failure and an old check are free.
    create(edition, make_user("bob"), model)
    ModelCheck.objects.filter(pk=second.pk).update(status="failed")
    third = create(edition, user, model, now=now)
    ModelCheck.objects.filter(pk=first.pk).update(created_at=now - dt.timedelta(minutes=61))
    create(edition, user, model, now=now)
    assert third.status == "queued" and services.model_checks_used(user=user, now=now) == 2


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (SimpleUploadedFile("empty.onnx", b""), "empty_file"),
        (pickle_upload(), "pickle_refused"),
        (unknown_upload(), "unsupported_format"),
    ],
)
def test_a_file_the_submit_form_refuses_is_refused_the_same_way(
    edition, user, upload, code, check_queue
):
    with pytest.raises(SubmissionRefused) as refused:
        services.model_check_create(edition=edition, user=user, upload=upload)
    upload.seek(0)
    with pytest.raises(SubmissionRefused) as submitted:
        services.submission_create(edition=edition, user=user, upload=upload, method_name="m")
    assert (refused.value.code, refused.value.message) == (code, submitted.value.message)
    assert not ModelCheck.objects.exists()


def test_without_sample_images_the_check_says_so(tmp_path, user, check_queue):
    bare = ten_class_edition(tmp_path / "bare", slug="bare", samples=False)
    model = linear_onnx(tmp_path / "m.onnx")
    with pytest.raises(SubmissionRefused) as refused:
        create(bare, user, model)
    assert refused.value.code == "no_samples"
    assert "no public sample images to check on" in refused.value.message

    # Samples removed between the upload and the run: the worker says the same, and cleans up.
    edition = ten_class_edition(tmp_path / "ten", slug="gone")
    check = create(edition, user, model)
    SampleImage.objects.filter(challenge=edition.challenge).delete()
    assert workflows.check_model(check_id=str(check.pk)) == "failed"
    check.refresh_from_db()
    assert check.status == "failed" and "no public sample images to check on" in (
        check.error_message
    )
    assert check.file.name == "" and check.report == {}


def test_a_platform_fault_fails_the_check_and_costs_nothing(
    edition, user, tmp_path, monkeypatch, check_queue
):
    from evaluator.errors import SandboxUnavailable

    def no_sandbox(**kwargs):
        raise SandboxUnavailable("bubblewrap could not start")

    monkeypatch.setattr("evaluator.check.check_model", no_sandbox)
    check = create(edition, user, linear_onnx(tmp_path / "m.onnx"))
    stored = Path(check.file.path)
    assert workflows.check_model(check_id=str(check.pk)) == "failed"
    check.refresh_from_db()
    assert check.status == "failed" and "(sandbox_unavailable)" in check.error_message
    assert "not because of your model" in check.error_message
    assert not stored.exists() and services.model_checks_used(user=user) == 0
