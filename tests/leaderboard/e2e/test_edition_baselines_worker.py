"""A baseline queued on a new edition (the challenge's set changed) is scored by a real worker
on the new set, as computed independently; the edition after it copies that score."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from leaderboard import services
from leaderboard.models import Submission

from ..factories import make_user
from .conftest import SPEC
from .helpers import wait_for_status
from .test_worker import independent_errors

pytestmark = pytest.mark.slow
Status = Submission.Status


def new_edition(challenge, *, slug: str, host):
    now = timezone.now()
    return services.edition_create(
        challenge=challenge,
        host=host,
        year=now.year,
        slug=slug,
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=30),
    )


def test_a_queued_baseline_on_a_new_edition_is_scored_on_its_set_by_a_worker(
    workers, digits_edition, digits_dir, resnet_onnx, tmp_path
):
    workers.start("gpu1")
    challenge = digits_edition.challenge
    first = services.baseline_submission_create(
        edition=digits_edition, model_path=resnet_onnx, method_name="ResNet-18", method_year=2015
    )
    first = wait_for_status(first, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert first.status == Status.SCORED, first.error_message

    # The host replaces the hidden set: 500 other digits (the training split's first 500).
    other = tmp_path / "other-set"
    other.mkdir()
    train = np.load(digits_dir / "train.npz")
    np.savez(other / "test.npz", images=train["images"][:500], labels=train["labels"][:500])
    services.challenge_import_dataset(
        challenge=challenge, fmt="npz", source=other, spec=SPEC, public_fraction=0.5, seed=3
    )
    challenge.refresh_from_db()
    teacher = make_user("teacher")

    spring = new_edition(challenge, slug="spring", host=teacher)

    (entry,) = Submission.objects.filter(edition=spring, is_baseline=True)
    assert entry.status in (Status.QUEUED, Status.RUNNING, Status.SCORED)
    entry = wait_for_status(entry, {Status.SCORED, Status.FAILED}, timeout_s=180)
    assert entry.status == Status.SCORED, entry.error_message
    assert entry.worker == "gpu1@e2e" and entry.attempts == 1
    score = entry.score
    assert score.n_images == 500
    assert score.record["dataset_fingerprint"] == challenge.dataset_fingerprint
    expected = independent_errors(
        dataset_dir=challenge.dataset_dir, model=resnet_onnx, spec=challenge.input_spec
    )
    assert (score.top1_error, score.top5_error) == (expected["all"][1], expected["all"][5])
    assert (score.public_top1_error, score.private_top1_error) == (
        expected["public"][1],
        expected["private"][1],
    )

    # The next edition on this set copies that score: no second run.
    autumn = new_edition(challenge, slug="autumn", host=teacher)
    (copy,) = Submission.objects.filter(edition=autumn, is_baseline=True)
    assert copy.status == Status.SCORED and copy.attempts == 0 and copy.worker == ""
    assert copy.score.record["reused_from"] == str(entry.pk)
    assert (copy.score.top1_error, copy.score.top5_error) == (score.top1_error, score.top5_error)
