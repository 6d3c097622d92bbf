"""Free model checks through the API with a token: upload, follow, the hourly cap, who sees."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from leaderboard import workflows
from leaderboard.api import tokens
from leaderboard.models import ModelCheck, Submission
from tests.leaderboard import checks_helpers
from tests.leaderboard.checks_helpers import linear_torchscript, ten_class_edition
from tests.leaderboard.factories import make_user, unknown_upload

from .conftest import assert_error

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]
check_queue = checks_helpers.check_queue
URL = "/api/challenges/ten/editions/2025/checks/"


@pytest.fixture
def edition(tmp_path):
    return ten_class_edition(tmp_path / "ten")


def post(client: APIClient, path, **fields):
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    return client.post(URL, {"file": upload, **fields}, format="multipart")


def test_check_through_the_api_then_follow_it(alice_api, api, edition, tmp_path, check_queue):
    created = post(alice_api, linear_torchscript(tmp_path / "three.pt", classes=3))

    assert created.status_code == 201, created.content
    body = created.json()
    check = ModelCheck.objects.get()
    assert body["id"] == str(check.pk) and body["status"] == "queued" and body["ok"] is None
    assert (body["challenge"], body["edition"], body["original_name"]) == (
        "ten",
        "2025",
        "three.pt",
    )
    assert created["Location"] == f"http://testserver/api/checks/{check.pk}/"
    assert body["url"] == f"http://testserver/checks/{check.pk}/"

    workflows.check_model(check_id=body["id"])
    followed = alice_api.get(f"/api/checks/{check.pk}/").json()
    assert followed["status"] == "done" and followed["ok"] is False
    report = followed["report"]
    assert report["error_code"] == "model_check_failed" and "[10, 3]" in report["error_message"]
    assert report["expected_shape"] == [10, 10] and report["format"] == "torchscript"
    assert not Submission.objects.exists()

    assert_error(api.get(f"/api/checks/{check.pk}/"), 401, "not_authenticated")
    bob = APIClient()
    bob.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_create(user=make_user('bob')).key}")
    assert_error(bob.get(f"/api/checks/{check.pk}/"), 404, "not_found")


def test_refusals_carry_the_submit_forms_codes(alice_api, edition, tmp_path, settings, check_queue):
    refused = alice_api.post(URL, {"file": unknown_upload()}, format="multipart")
    assert assert_error(refused, 400, "unsupported_format")["fields"]["file"]

    settings.MODEL_CHECKS_PER_HOUR = 1
    assert post(alice_api, linear_torchscript(tmp_path / "a.pt")).status_code == 201
    body = assert_error(post(alice_api, linear_torchscript(tmp_path / "b.pt")), 429, "check_limit")
    assert "check again at" in body["message"]
    assert ModelCheck.objects.count() == 1

    settings.MODEL_CHECKS_PER_HOUR = 20
    empty = alice_api.post(URL, {"file": SimpleUploadedFile("e.pt", b"")}, format="multipart")
    assert empty.status_code == 400
