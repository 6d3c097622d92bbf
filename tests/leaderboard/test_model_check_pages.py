"""Model checks on the site: the submit page's button, the post, the result page and its poll,
and who may see a check. The worker's part is the workflow, called directly."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leaderboard import workflows
from leaderboard.models import ModelCheck, SampleImage, Submission

from . import checks_helpers
from .checks_helpers import linear_onnx, ten_class_edition
from .factories import make_user, pickle_upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]
check_queue = checks_helpers.check_queue


@pytest.fixture
def edition(tmp_path):
    return ten_class_edition(tmp_path / "ten")


def check_url(edition) -> str:
    return reverse("model_check_create", args=[edition.challenge.slug, edition.slug])


def post_check(client, edition, path: Path, **headers):
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    return client.post(check_url(edition), {"file": upload, "method_name": ""}, **headers)


def test_the_submit_page_offers_a_free_check_only_with_samples(client, user, edition, tmp_path):
    client.force_login(user)
    page = client.get(reverse("submit", args=[edition.challenge.slug, edition.slug]))
    assert b"Check my model (free)" in page.content
    assert f'formaction="{check_url(edition)}"'.encode() in page.content

    SampleImage.objects.all().delete()
    page = client.get(reverse("submit", args=[edition.challenge.slug, edition.slug]))
    assert b"Check my model (free)" not in page.content
    assert b"no public sample images to check on" in page.content


def test_a_check_from_the_page_shows_the_wrong_shape_as_a_submission_would(
    client, user, edition, tmp_path, check_queue
):
    client.force_login(user)
    created = post_check(
        client,
        edition,
        linear_onnx(tmp_path / "three.onnx", classes=3),
        HTTP_ACCEPT="application/json",
    )
    assert created.status_code == 201, created.content
    check = ModelCheck.objects.get()
    assert created.json() == {"id": str(check.pk), "redirect": f"/checks/{check.pk}/"}

    page = client.get(f"/checks/{check.pk}/")
    assert page.status_code == 200
    assert b"A check is not a score and never appears on a board" in page.content
    assert b'data-status="queued"' in page.content
    assert client.get(f"/checks/{check.pk}/status/").json()["status"] == "queued"

    workflows.check_model(check_id=str(check.pk))
    check.refresh_from_db()
    status = client.get(f"/checks/{check.pk}/status/").json()
    assert status | {"verdict": ""} == {
        "id": str(check.pk),
        "status": "done",
        "status_display": "Done",
        "finished": True,
        "ok": False,
        "verdict": "",
    }
    text = client.get(f"/checks/{check.pk}/").content.decode()
    assert "Would fail" in text and "<code>model_check_failed</code>" in text
    assert check.report["error_message"] in text.replace("&#x27;", "'")
    assert "<code>[10, 10]</code>" in text and "Top-5 guesses" not in text
    assert not Submission.objects.exists()


def test_a_good_model_shows_each_samples_top_five_with_its_image(
    client, user, edition, tmp_path, check_queue
):
    client.force_login(user)
    response = post_check(client, edition, linear_onnx(tmp_path / "good.onnx"))
    check = ModelCheck.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/checks/{check.pk}/"
    workflows.check_model(check_id=str(check.pk))

    text = client.get(response["Location"]).content.decode()
    assert "Would be scored" in text and "<code>onnx</code> (recognised)" in text
    assert text.count('<figure class="top5">') == 10
    assert text.count('<span class="bar"') == 50  # five guesses per sample
    for sample in SampleImage.objects.filter(challenge=edition.challenge):
        url = reverse("sample_image", args=[edition.challenge.slug, sample.pk])
        assert f'src="{url}"' in text
        assert client.get(url).status_code == 200


def test_only_the_owner_and_the_staff_see_a_check(client, user, edition, tmp_path, check_queue):
    client.force_login(user)
    post_check(client, edition, linear_onnx(tmp_path / "m.onnx"))
    check = ModelCheck.objects.get()
    for path in (f"/checks/{check.pk}/", f"/checks/{check.pk}/status/"):
        assert client.get(path).status_code == 200
        client.force_login(make_user(f"eve{len(path)}"))
        assert client.get(path).status_code == 404
        staff = make_user(f"staff{len(path)}")
        staff.is_staff = True
        staff.save()
        client.force_login(staff)
        assert client.get(path).status_code == 200
        client.force_login(user)
    client.logout()
    assert client.get(f"/checks/{check.pk}/").status_code == 302  # to the login page


def test_refusals_come_back_as_the_submit_form_shows_them(
    client, user, edition, settings, check_queue
):
    client.force_login(user)
    upload = pickle_upload()
    refused = client.post(check_url(edition), {"file": upload}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 400
    (message,) = refused.json()["errors"]["file"]
    assert "pickle" in message.lower()

    settings.MODEL_CHECKS_PER_HOUR = 0
    refused = client.post(
        check_url(edition), {"file": pickle_upload()}, HTTP_ACCEPT="application/json"
    )
    assert refused.status_code == 400  # the file is refused before the cap is counted
    without_script = client.post(check_url(edition), {}, follow=True)
    assert b"Check refused: This field is required." in without_script.content
    assert not ModelCheck.objects.exists()
