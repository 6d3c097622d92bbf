"""Submitting through the API: the web form's service, limits and size-capped upload handler."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from safetensors.numpy import save as safetensors_bytes

from leaderboard.models import Submission
from tests.leaderboard.factories import (
    make_edition,
    onnx_bytes,
    onnx_upload,
    pickle_upload,
    unknown_upload,
)

from .conftest import assert_error

pytestmark = pytest.mark.django_db
URL = "/api/challenges/fmnist/editions/2025/submissions/"


def post(client: APIClient, upload=None, **fields):
    data = {"method_name": "linear probe", **fields}
    if upload is not None:
        data["file"] = upload
    return client.post(URL, data, format="multipart")


def leftover_files(settings) -> list[Path]:
    roots = (Path(settings.FILE_UPLOAD_TEMP_DIR), Path(settings.MEDIA_ROOT))
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def own_queue(settings, gpu_queue) -> Iterator[str]:
    """A scoring queue of this test's own: parallel runs sharing Redis never empty it."""
    settings.SCORING_QUEUE = f"api-test-{uuid.uuid4().hex[:12]}"
    yield settings.SCORING_QUEUE
    gpu_queue.delete(settings.SCORING_QUEUE)


@pytest.mark.django_db(transaction=True)
def test_submit_creates_and_queues_a_submission_after_commit(
    alice_api, edition, gpu_queue, own_queue
):
    response = post(alice_api, onnx_upload("net.onnx"), arch="", description="d")

    assert response.status_code == 201, response.content
    body = response.json()
    submission = Submission.objects.get(pk=body["id"])
    assert (body["status"], body["format"], body["team"]) == ("queued", "onnx", "alice")
    assert submission.original_name == "net.onnx" and submission.method_name == "linear probe"
    assert response["Location"].endswith(f"/api/submissions/{submission.pk}/")
    (message,) = [json.loads(raw) for raw in gpu_queue.lrange(own_queue, 0, -1)]
    assert message["headers"]["task"] == "leaderboard.tasks.score_submission"
    assert str(submission.pk) in message["headers"]["argsrepr"]
    assert Path(submission.file.path).read_bytes() == onnx_bytes()


def test_safetensors_with_an_architecture_is_accepted(alice_api, edition, gpu_queue):
    weights = safetensors_bytes({"w": np.zeros(4, dtype=np.float32)})
    response = post(alice_api, SimpleUploadedFile("w.safetensors", weights), arch="resnet18")
    assert response.status_code == 201 and response.json()["arch"] == "resnet18"


@pytest.mark.parametrize(
    ("upload", "code", "text"),
    [
        (pickle_upload("net.pth"), "pickle_refused", "net.pth is a Python pickle"),
        (unknown_upload("net.onnx"), "unsupported_format", "ONNX"),
        (SimpleUploadedFile("empty.onnx", b""), "validation_error", "file: "),
    ],
)
def test_refused_files_say_why(alice_api, edition, settings, upload, code, text):
    body = assert_error(post(alice_api, upload), 400, code)
    assert text in body["message"]
    assert "file" in body["fields"]
    assert Submission.objects.count() == 0
    assert leftover_files(settings) == []


def test_safetensors_without_an_architecture_is_arch_required(alice_api, edition):
    weights = safetensors_bytes({"w": np.zeros(4, dtype=np.float32)})
    body = assert_error(
        post(alice_api, SimpleUploadedFile("w.safetensors", weights)), 400, "arch_required"
    )
    assert "resnet18" in body["message"] and "arch" in body["fields"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"method_name": ""}, "method_name"),
        ({"method_name": "x" * 201}, "method_name"),
        ({"arch": "a" * 101}, "arch"),
    ],
)
def test_form_fields_are_validated_like_the_web_form(alice_api, edition, fields, field):
    body = assert_error(post(alice_api, onnx_upload(), **fields), 400, "validation_error")
    assert field in body["fields"] and body["message"].startswith(f"{field}: ")


def test_a_missing_file_is_a_validation_error(alice_api, edition):
    body = assert_error(post(alice_api), 400, "validation_error")
    assert "file" in body["fields"]


def test_closed_and_not_yet_open_editions(alice_api, challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    body = assert_error(post(alice_api, onnx_upload()), 403, "edition_closed")
    assert "closed on" in body["message"]
    edition.opens_at = timezone.now() + dt.timedelta(days=1)
    edition.closes_at = timezone.now() + dt.timedelta(days=2)
    edition.save()
    assert_error(post(alice_api, onnx_upload()), 403, "edition_not_open")


@pytest.mark.parametrize(
    ("limits", "reason"), [({"daily_limit": 1}, "daily_limit"), ({"total_limit": 1}, "total_limit")]
)
def test_limits_are_limit_reached(alice_api, challenge, gpu_queue, limits, reason):
    make_edition(challenge=challenge, **limits)
    assert post(alice_api, onnx_upload()).status_code == 201

    body = assert_error(post(alice_api, onnx_upload()), 403, "limit_reached")
    assert body["reason"] == reason
    assert Submission.objects.count() == 1


@pytest.mark.parametrize(
    ("size", "drain"),
    [
        (3 * 2**20, 8 * 2**20),  # declared length far over: stopped before reading the file
        (2**20 + 30_000, 8 * 2**20),  # just over: stopped while counting the chunks
        (3 * 2**20, 0),  # nothing drained: the connection is cut
    ],
)
def test_oversize_upload_is_file_too_large_and_leaves_no_file(
    alice_api, challenge, settings, size, drain
):
    settings.UPLOAD_DRAIN_MAX_BYTES = drain
    make_edition(challenge=challenge, max_upload_mb=1)
    big = SimpleUploadedFile("big.onnx", onnx_bytes() + b"\0" * size)

    body = assert_error(post(alice_api, big), 413, "file_too_large")

    assert "limit of 1 MB" in body["message"]
    assert Submission.objects.count() == 0
    assert leftover_files(settings) == []


def test_anonymous_upload_is_not_authenticated_and_not_read(api, edition, settings):
    assert_error(post(api, onnx_upload()), 401, "not_authenticated")
    assert leftover_files(settings) == []


def test_revoked_token_cannot_submit(api, edition):
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert_error(post(api, onnx_upload()), 401, "token_invalid")


def test_unknown_edition_is_not_found(alice_api, edition):
    response = alice_api.post(
        "/api/challenges/fmnist/editions/1999/submissions/",
        {"file": onnx_upload(), "method_name": "m"},
        format="multipart",
    )
    assert_error(response, 404, "not_found")


def test_json_body_is_unsupported_media_type(alice_api, edition):
    response = alice_api.post(URL, {"method_name": "m"}, format="json")
    assert_error(response, 415, "unsupported_media_type")


def test_malformed_multipart_is_a_parse_error(alice_api, edition):
    response = alice_api.generic(
        "POST", URL, b"--x\r\nnot a part", content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 400 and response.json()["code"] in (
        "parse_error",
        "validation_error",
    )


def test_uploads_have_their_own_throttle(settings, alice_api, edition, gpu_queue):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000/hour", "submit": "2/hour"},
    }
    assert post(alice_api, onnx_upload()).status_code == 201
    assert post(alice_api, onnx_upload()).status_code == 201

    response = post(alice_api, onnx_upload())

    body = assert_error(response, 429, "throttled")
    assert body["retry_after"] > 0 and response["Retry-After"] == str(body["retry_after"])
    assert alice_api.get("/api/me/").status_code == 200  # other endpoints still answer


def test_session_submissions_need_the_csrf_token(user, edition, gpu_queue):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(URL, {"file": onnx_upload(), "method_name": "m"})
    body = assert_error(response, 403, "permission_denied")
    assert "CSRF" in body["message"]

    page = client.get("/me/tokens/")
    csrf = str(page.context["csrf_token"])
    response = client.post(URL, {"file": onnx_upload(), "method_name": "m"}, HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201, json.loads(response.content)
