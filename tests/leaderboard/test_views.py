"""Pages through Django's test client: accounts, challenges, submitting, statuses, results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leaderboard import services
from leaderboard.models import SampleImage, Submission

from .factories import (
    make_edition,
    make_scored,
    make_team,
    make_user,
    onnx_bytes,
    onnx_upload,
    pickle_upload,
    unknown_upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, user) -> Client:
    client.force_login(user)
    return client


def submit_url(edition) -> str:
    return reverse("submit", args=[edition.challenge.slug, edition.slug])


def post_model(client, edition, upload, **headers):
    data = {"file": upload, "method_name": "linear probe", "arch": "", "description": "d"}
    return client.post(submit_url(edition), data, **headers)


def leftover_files(settings) -> list[Path]:
    roots = (Path(settings.FILE_UPLOAD_TEMP_DIR), Path(settings.MEDIA_ROOT))
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


def test_signup_logs_in_and_logout_logs_out(client):
    response = client.post(
        reverse("signup"),
        {
            "username": "newbie",
            "email": "newbie@example.org",
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
        },
    )
    assert response.status_code == 302
    assert "newbie" in client.get(reverse("challenge_list")).content.decode()
    client.post(reverse("logout"))
    assert "Sign up" in client.get(reverse("challenge_list")).content.decode()
    assert client.login(username="newbie", password="a-long-pass-123")


def test_challenge_pages_show_editions_and_sample_images(client, edition, settings):
    challenge = edition.challenge
    sample = services.challenge_sample_add(
        challenge=challenge, png=b"\x89PNG\r\n\x1a\nfake", label=2, label_name="c", position=0
    )
    body = client.get(reverse("challenge_list")).content.decode()
    assert challenge.title in body and edition.get_absolute_url() in body

    body = client.get(challenge.get_absolute_url()).content.decode()
    assert str(edition.year) in body
    image_url = reverse("sample_image", args=[challenge.slug, sample.pk])
    assert image_url in body and ">c <" in body
    response = client.get(image_url)
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert SampleImage.objects.count() == 1


def test_submit_requires_login(client, edition):
    response = client.get(submit_url(edition))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_submit_form_post_without_javascript(alice_client, edition, gpu_queue):
    page = alice_client.get(submit_url(edition)).content.decode()
    assert 'enctype="multipart/form-data"' in page and "5 submissions left today" in page

    response = post_model(alice_client, edition, onnx_upload())

    assert response.status_code == 302 and response["Location"] == reverse("my_submissions")
    submission = Submission.objects.get()
    assert submission.format == "onnx" and submission.method_name == "linear probe"


def test_submit_with_javascript_gets_json(alice_client, edition, gpu_queue):
    response = post_model(alice_client, edition, onnx_upload(), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {
        "id": str(Submission.objects.get().pk),
        "redirect": reverse("my_submissions"),
    }

    response = post_model(alice_client, edition, pickle_upload(), HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "pickle" in response.json()["errors"]["file"][0]


def test_csrf_is_enforced_on_the_submit_form(user, edition, gpu_queue):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert post_model(client, edition, onnx_upload()).status_code == 403

    client.get(submit_url(edition))
    token = client.cookies["csrftoken"].value
    data = {"file": onnx_upload(), "method_name": "m", "csrfmiddlewaretoken": token}
    assert client.post(submit_url(edition), data).status_code == 302


@pytest.mark.parametrize(
    ("size", "drain"),
    [
        (3 * 2**20, 8 * 2**20),  # declared length far over: stopped before reading the file
        (2**20 + 30_000, 8 * 2**20),  # just over: stopped while counting the chunks
        (3 * 2**20, 0),  # nothing drained: the connection is cut
    ],
)
def test_oversize_upload_is_stopped_and_leaves_no_file(
    alice_client, challenge, settings, size, drain
):
    settings.UPLOAD_DRAIN_MAX_BYTES = drain
    edition = make_edition(challenge=challenge, max_upload_mb=1)
    big = SimpleUploadedFile("big.onnx", onnx_bytes() + b"\0" * size)

    response = post_model(alice_client, edition, big)

    assert response.status_code == 413
    assert "larger than this edition&#x27;s limit of 1 MB" in response.content.decode()
    assert Submission.objects.count() == 0
    assert leftover_files(settings) == []


@pytest.mark.parametrize(
    ("upload", "expected"),
    [
        (pickle_upload("net.pth"), "net.pth is a Python pickle"),
        (unknown_upload("net.onnx"), "ONNX"),
    ],
)
def test_refused_formats_show_the_evaluators_message(
    alice_client, edition, settings, upload, expected
):
    response = post_model(alice_client, edition, upload)
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert leftover_files(settings) == []


def test_closed_edition_refuses_submissions(alice_client, challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    response = post_model(alice_client, edition, onnx_upload())
    assert response.status_code == 400
    assert "no longer accepted" in response.content.decode()


def test_my_submissions_and_status_endpoint(alice_client, user, edition, gpu_queue):
    mine = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="mine"
    )
    other_user = make_user("mallory")
    theirs = services.submission_create(
        edition=edition, user=other_user, upload=onnx_upload(), method_name="theirs"
    )
    body = alice_client.get(reverse("my_submissions")).content.decode()
    assert "mine" in body and "theirs" not in body and "status.js" in body

    ids = f"{mine.pk},{theirs.pk},not-a-uuid"
    data = alice_client.get(reverse("submission_statuses"), {"ids": ids}).json()
    assert [row["id"] for row in data["submissions"]] == [str(mine.pk)]
    assert data["submissions"][0]["status"] == "queued"

    job = services.submission_start(submission_id=mine.pk, worker="w")
    services.score_record(
        submission_id=mine.pk, attempt=job.attempt, error_code="timeout", error_message="slow"
    )
    row = alice_client.get(reverse("submission_statuses"), {"ids": ids}).json()["submissions"][0]
    assert (row["status"], row["error_message"]) == ("failed", "slow")


def test_submission_page_hides_private_results_until_the_edition_closes(client, user, edition):
    team = make_team(edition=edition, name="alice", users=[user])
    scored = make_scored(edition=edition, team=team, top1=0.125, top5=0.0625, private=(0.75, 0.5))
    scored.score.record = {
        "per_class_accuracy": [0.11, 0.22, 0.33, 0.44],
        "public_per_class_accuracy": [0.91, 0.92, 0.93, 0.94],
        "confusion_matrix": [[1, 0, 0, 0]] * 4,
        "public_confusion_matrix": [[7, 0, 0, 0]] * 4,
        "model_sha256": "f" * 64,
        "versions": {"torch": "2.14.1"},
    }
    scored.score.save()
    url = scored.get_absolute_url()
    assert client.get(url).status_code == 404  # anonymous
    client.force_login(make_user("eve"))
    assert client.get(url).status_code == 404  # not in the team

    client.force_login(user)
    body = client.get(url).content.decode()
    assert "12.50%" in body and "6.25%" in body and "f" * 64 in body and "2.14.1" in body
    assert "0.910" in body and "0.110" not in body and "75.00%" not in body
    assert ">7<" in body

    edition.closes_at = timezone.now() - dt.timedelta(seconds=1)
    edition.save()
    body = client.get(url).content.decode()
    assert "75.00%" in body and "0.110" in body and ">1<" in body


def test_failed_submission_page_shows_the_message(client, user, edition, gpu_queue):
    submission = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="m"
    )
    job = services.submission_start(submission_id=submission.pk, worker="w")
    services.score_record(
        submission_id=submission.pk,
        attempt=job.attempt,
        error_code="model_check_failed",
        error_message="outputs contain NaN",
    )
    client.force_login(user)
    body = client.get(submission.get_absolute_url()).content.decode()
    assert "model_check_failed" in body and "outputs contain NaN" in body
