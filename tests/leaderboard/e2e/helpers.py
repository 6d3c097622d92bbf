"""Uploading through the site's own view and waiting on the row, as a participant would."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leaderboard.models import Edition, Submission

PASSWORD = "pw-for-tests-1"


def upload(*, client: Client, edition: Edition, model: Path, method: str) -> Submission:
    """POST the file to the submit page (upload handler, form, service); return the new row."""
    url = reverse("submit", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})
    before = set(Submission.objects.values_list("pk", flat=True))
    response = client.post(
        url,
        {"file": SimpleUploadedFile(model.name, model.read_bytes()), "method_name": method},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("my_submissions")
    (created,) = Submission.objects.exclude(pk__in=before)
    return created


def wait_for_status(
    submission: Submission, statuses: set[str], *, timeout_s: float, interval_s: float = 0.1
) -> Submission:
    """Poll the row until its status is one of ``statuses``; fail with the last state seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        submission.refresh_from_db()
        if submission.status in statuses:
            return submission
        if time.monotonic() > deadline:
            raise AssertionError(
                f"submission still {submission.status} after {timeout_s:g} s "
                f"(attempts {submission.attempts}, error {submission.error_message!r})"
            )
        time.sleep(interval_s)


def top_k_errors(logits, labels, ks=(1, 5)) -> dict[int, float]:
    """Plain loop: an image is correct at k when its label is among the k highest logits."""
    wrong = dict.fromkeys(ks, 0)
    for row, label in zip(logits, labels, strict=True):
        order = sorted(range(len(row)), key=lambda c: (-float(row[c]), c))
        for k in ks:
            if int(label) not in order[:k]:
                wrong[k] += 1
    return {k: wrong[k] / len(labels) for k in ks}
