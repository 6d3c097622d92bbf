"""A host fixes the hidden set and re-runs an entry: a real worker scores it again (issue 16).

The participant's upload is scored by a Celery worker process; the host then relabels some
test images (as after finding mislabelled ones), imports the set again and presses "Re-run"
on the host page. The same worker scores the same submission on the new set: the new errors
equal onnxruntime's on the new files, the old score is kept with the old set's fingerprint,
the board ranks the new one, and the team's submission count has not moved.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from leaderboard import selectors, services
from leaderboard.models import Score, Submission, SupersededScore
from leaderboard.selectors.quota import quota_usage

from ..factories import make_user
from .conftest import SPEC
from .helpers import PASSWORD, upload, wait_for_status
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
