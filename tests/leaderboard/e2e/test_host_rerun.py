"""A host fixes the hidden set and re-runs an entry: a real worker scores it again (issue 16).

The participant's upload is scored by a Celery worker process; the host then relabels some
test images (as after finding mislabelled ones), imports the set again and presses "Re-run"
on the host page. The same worker scores the same submission on the new set: the new errors
equal onnxruntime's on the new files, the old score is kept with the old set's fingerprint,
the board ranks the new one, and the team's submission count has not moved.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from evaluator.spec import InputSpec
from leaderboard import selectors, services
from leaderboard.api import tokens
from leaderboard.errors import PLATFORM_ERROR_CODES
from leaderboard.models import RerunFailure, Score, Submission, SupersededScore
from leaderboard.selectors.quota import quota_usage

from ..factories import make_user, onnx_bytes
from .conftest import SPEC
from .helpers import PASSWORD, upload, wait_for_status
from .mailbox import read_mail
from .test_worker import independent_errors

pytestmark = pytest.mark.slow
Status = Submission.Status


def test_a_rerun_after_the_host_fixes_the_hidden_set_gets_a_new_score(
    workers, digits_edition, digits_dir, resnet_onnx, tmp_path
):
    workers.start("gpu1")
    challenge = digits_edition.challenge
    host = make_user("hana")
    digits_edition.host = host
    digits_edition.save(update_fields=["host"])
    dana = make_user("dana")
    student = Client()
    assert student.login(username="dana", password=PASSWORD)
    submission = upload(client=student, edition=digits_edition, model=resnet_onnx, method="r18")
    submission = wait_for_status(submission, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert submission.status == Status.SCORED, submission.error_message
    before = Score.objects.get(submission=submission)
    old_fingerprint = challenge.dataset_fingerprint
    assert before.record["dataset_fingerprint"] == old_fingerprint
    usage = quota_usage(edition=digits_edition, user=dana)

    # The host relabels 60 test images and imports the set again.
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    shutil.copy(digits_dir / "train.npz", fixed / "train.npz")
    test = np.load(digits_dir / "test.npz")
    labels = test["labels"].copy()
    labels[:60] = (labels[:60] + 3) % 10
    np.savez(fixed / "test.npz", images=test["images"], labels=labels)
    services.challenge_import_dataset(
        challenge=challenge, fmt="npz", source=fixed, spec=SPEC, public_fraction=0.5, seed=3
    )
    challenge.refresh_from_db()
    assert challenge.dataset_fingerprint != old_fingerprint

    host_client = Client()
    assert host_client.login(username="hana", password=PASSWORD)
    rerun = reverse("entries_rerun", args=[challenge.slug, digits_edition.slug])
    assert host_client.post(rerun, {"submission": [str(submission.pk)]}).status_code == 302
    submission = wait_for_status(submission, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert submission.status == Status.SCORED, submission.error_message
    assert (submission.reruns, submission.attempts) == (1, 2)

    expected = independent_errors(
        dataset_dir=challenge.dataset_dir, model=resnet_onnx, spec=challenge.input_spec
    )
    after = Score.objects.get(submission=submission)
    assert after.record["dataset_fingerprint"] == challenge.dataset_fingerprint
    assert (after.top1_error, after.top5_error) == (expected["all"][1], expected["all"][5])
    assert (after.public_top5_error, after.private_top1_error) == (
        expected["public"][5],
        expected["private"][1],
    )
    assert after.top1_error != before.top1_error
    (old,) = SupersededScore.objects.filter(submission=submission)
    assert old.dataset_fingerprint == old_fingerprint
    assert (old.top1_error, old.top5_error) == (before.top1_error, before.top5_error)
    (row,) = selectors.leaderboard_rows(edition=digits_edition, phase="public", metric="top5")
    assert row.pk == submission.pk and row.metric_value == expected["public"][5]
    assert quota_usage(edition=digits_edition, user=dana) == usage
    page = student.get(submission.get_absolute_url()).content.decode()
    assert challenge.dataset_fingerprint in page and old_fingerprint in page


def test_a_rerun_that_the_new_set_breaks_keeps_the_score_and_records_the_failure(
    workers, digits_edition, digits_dir, tmp_path
):
    """The host imports the set again at 32x32 (its images were 28x28): the participant's
    ONNX model, fixed to 28x28, now fails. Re-run through the API, the same real worker reports
    the model's failure; the entry keeps its score and place, the failure is in its history
    with its code and message, the host page and the API show it, the team is mailed."""
    mail_dir = tmp_path / "mail"
    workers.start("gpu1", EMAIL_URL=f"filemail://{mail_dir}")
    challenge = digits_edition.challenge
    hana = make_user("hana")
    digits_edition.host = hana
    digits_edition.save(update_fields=["host"])
    dana = make_user("dana")
    dana.email = "dana@example.org"
    dana.save()
    student = Client()
    assert student.login(username="dana", password=PASSWORD)
    model = tmp_path / "tiny.onnx"
    model.write_bytes(onnx_bytes(channels=1, height=28, width=28, classes=10))
    submission = upload(client=student, edition=digits_edition, model=model, method="tiny")
    submission = wait_for_status(submission, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert submission.status == Status.SCORED, submission.error_message
    read_mail(mail_dir, count=1)  # "Scored: tiny ..."
    before = Score.objects.get(submission=submission)
    old_fingerprint = challenge.dataset_fingerprint
    (row,) = selectors.leaderboard_rows(edition=digits_edition, phase="public", metric="top5")
    ranked_before = (row.pk, row.metric_value)

    bigger = InputSpec(channels=1, height=32, width=32, mean=SPEC.mean, std=SPEC.std)
    services.challenge_import_dataset(
        challenge=challenge, fmt="npz", source=digits_dir, spec=bigger, public_fraction=0.5, seed=3
    )
    challenge.refresh_from_db()
    new_fingerprint = challenge.dataset_fingerprint
    assert new_fingerprint != old_fingerprint

    host_api = APIClient()
    host_api.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_create(user=hana).key}")
    base = f"/api/challenges/{challenge.slug}/editions/{digits_edition.slug}/host/"
    answer = host_api.post(f"{base}reruns/", {"submissions": [str(submission.pk)]}, format="json")
    assert answer.status_code == 202, answer.content
    deadline = time.monotonic() + 180
    while not RerunFailure.objects.filter(submission=submission).exists():
        assert time.monotonic() < deadline, "the re-run did not fail in time"
        time.sleep(0.2)

    submission.refresh_from_db()
    assert (submission.status, submission.reruns, submission.attempts) == (Status.SCORED, 1, 2)
    (failure,) = RerunFailure.objects.filter(submission=submission)
    assert failure.error_code and failure.error_message
    assert failure.error_code not in PLATFORM_ERROR_CODES  # the model's failure, not ours
    assert (failure.dataset_fingerprint, failure.attempt) == (new_fingerprint, 2)
    after = Score.objects.get(submission=submission)
    assert (after.pk, after.created_at, after.top5_error) == (
        before.pk,
        before.created_at,
        before.top5_error,
    )
    assert after.record["dataset_fingerprint"] == old_fingerprint
    assert not SupersededScore.objects.filter(submission=submission).exists()
    (row,) = selectors.leaderboard_rows(edition=digits_edition, phase="public", metric="top5")
    assert (row.pk, row.metric_value) == ranked_before

    state = host_api.get(base).json()
    (listed,) = state["rerun_failures"]
    assert (listed["submission"], listed["error_code"]) == (str(submission.pk), failure.error_code)
    host_page = Client()
    assert host_page.login(username="hana", password=PASSWORD)
    html = host_page.get(f"/c/{challenge.slug}/{digits_edition.slug}/host/").content.decode()
    assert f'<tr class="rerun-failure" data-submission="{submission.pk}"' in html
    detail = student.get(submission.get_absolute_url()).content.decode()
    assert 'id="rerun-failed-notice"' in detail and failure.error_code in detail

    _, mailed = read_mail(mail_dir, count=2)
    assert mailed["Subject"].startswith(f"[Arena] Re-run failed: tiny ({failure.error_code})")
