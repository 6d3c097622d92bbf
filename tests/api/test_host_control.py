"""A host's controls through the API (issue 16, section 3): re-run, pause, freeze, with tokens.

The same permission rule as the pages: a teaching assistant sees the controls and re-runs
entries but may not pause or freeze; a participant may do none of it. Each change is the
pages' service's, so the edition's rows say what the answer says.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from leaderboard.api import tokens
from leaderboard.errors import PLATFORM_ERROR
from leaderboard.models import EditionRole, Score, Submission
from leaderboard.services import host_control
from tests.leaderboard.factories import make_scored, make_team, make_user, onnx_upload

from .conftest import assert_error

pytestmark = pytest.mark.django_db
Status = Submission.Status
BASE = "/api/challenges/fmnist/editions/2025/host/"


def client_of(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_create(user=user).key}")
    return client


@pytest.fixture
def host(edition):
    host = make_user("hana")
    edition.host = host
    edition.save(update_fields=["host"])
    return client_of(host)


@pytest.fixture
def ta(edition):
    assistant = make_user("tom")
    EditionRole.objects.create(edition=edition, user=assistant, role=EditionRole.Role.TA)
    return client_of(assistant)


@pytest.fixture
def entries(edition, user):
    team = make_team(edition=edition, name="alice's team", users=[user])
    scored = make_scored(edition=edition, team=team, top1=0.3, top5=0.2, method="scored")
    lost = make_scored(edition=edition, team=team, top1=0.5, top5=0.3, method="lost")
    Score.objects.filter(submission=lost).delete()
    Submission.objects.filter(pk=lost.pk).update(status=Status.FAILED, error_code=PLATFORM_ERROR)
    return {"scored": scored, "lost": lost}


def test_a_host_reruns_entries_by_id_and_is_told_what_was_skipped(host, entries, gpu_queue):
    scored, lost = entries["scored"], entries["lost"]
    answer = host.post(
        f"{BASE}reruns/", {"submissions": [str(scored.pk), str(lost.pk)]}, format="json"
    )
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert (body["queued"], body["skipped"]) == ([str(scored.pk)], [str(lost.pk)])
    assert "1 entry queued" in body["message"]
    scored.refresh_from_db()
    assert (scored.status, scored.reruns) == (Status.QUEUED, 1)
    # Queued again: nothing more to re-run, said with a code of its own.
    again = assert_error(
        host.post(f"{BASE}reruns/", {"submissions": [str(scored.pk)]}, format="json"),
        409,
        "nothing_rerun",
    )
    assert again["skipped"] == [str(scored.pk)]


def test_a_teaching_assistant_reruns_the_finals_but_may_not_pause_or_freeze(
    ta, edition, entries, gpu_queue
):
    answer = ta.post(f"{BASE}reruns/", {"finals": True}, format="json")
    assert answer.status_code == 202, answer.content
    assert answer.json()["queued"] == [str(entries["scored"].pk)]
    state = ta.get(BASE).json()
    assert (state["role"], state["reruns_pending"]) == ("ta", 1)
    assert_error(ta.post(f"{BASE}pause/"), 403, "not_host")
    assert_error(ta.delete(f"{BASE}pause/"), 403, "not_host")
    assert_error(ta.post(f"{BASE}freeze/", {}, format="json"), 403, "not_host")
    assert_error(ta.delete(f"{BASE}freeze/"), 403, "not_host")
    edition.refresh_from_db()
    assert edition.submissions_paused_at is None and edition.board_frozen_at is None


def test_a_participant_or_nobody_may_do_none_of_it(api, alice_api, entries):
    for method, path in [
        ("get", ""),
        ("post", "reruns/"),
        ("post", "pause/"),
        ("delete", "pause/"),
        ("post", "freeze/"),
        ("delete", "freeze/"),
    ]:
        assert_error(getattr(alice_api, method)(BASE + path, {}, format="json"), 403, "not_host")
        assert_error(getattr(api, method)(BASE + path, {}, format="json"), 401, "not_authenticated")
    assert Submission.objects.get(pk=entries["scored"].pk).reruns == 0
    assert_error(alice_api.get("/api/challenges/fmnist/editions/1999/host/"), 404, "not_found")


def test_bad_rerun_requests_are_named(host, entries):
    body = assert_error(
        host.post(f"{BASE}reruns/", {"submissions": ["not-an-id"]}, format="json"),
        400,
        "validation_error",
    )
    assert "submissions" in body["fields"]
    assert_error(host.post(f"{BASE}reruns/", {}, format="json"), 400, "nothing_chosen")


def test_a_host_pauses_with_the_message_uploads_get_then_resumes(host, alice_api, edition):
    closes = edition.closes_at
    paused = host.post(f"{BASE}pause/")
    assert paused.status_code == 200, paused.content
    body = paused.json()
    assert body["submissions_paused"] is True and body["submissions_paused_at"]
    assert body["pause_message"].startswith("Submissions are paused by the host of Fashion 2025")
    assert body["message"].startswith("Submissions paused")
    # What a participant's upload now gets is that message.
    refused = alice_api.post(
        "/api/challenges/fmnist/editions/2025/submissions/",
        {"file": onnx_upload(), "method_name": "m"},
        format="multipart",
    )
    assert refused.json() == {"code": "submissions_paused", "message": body["pause_message"]}
    first = body["submissions_paused_at"]
    assert host.post(f"{BASE}pause/").json()["submissions_paused_at"] == first  # kept

    resumed = host.delete(f"{BASE}pause/").json()
    assert (resumed["submissions_paused"], resumed["pause_message"]) == (False, "")
    edition.refresh_from_db()
    assert edition.submissions_paused_at is None and edition.closes_at == closes


def test_a_host_freezes_at_a_local_time_or_now_and_unfreezes(host, edition):
    edition.time_zone = "Europe/Paris"
    edition.save(update_fields=["time_zone"])
    local = timezone.localtime(timezone.now() - dt.timedelta(hours=1), edition.tzinfo)
    given = local.strftime("%Y-%m-%dT%H:%M")
    frozen = host.post(f"{BASE}freeze/", {"frozen_at": given}, format="json")
    assert frozen.status_code == 200, frozen.content
    body = frozen.json()
    assert body["board_frozen_now"] is True
    edition.refresh_from_db()
    assert edition.board_frozen_at == local.replace(second=0, microsecond=0)
    assert given.replace("T", " ") in body["message"]

    later = host.post(f"{BASE}freeze/", {}, format="json").json()  # no time: from now
    edition.refresh_from_db()
    assert abs((timezone.now() - edition.board_frozen_at).total_seconds()) < 60
    assert later["board_frozen_now"] is True

    lifted = host.delete(f"{BASE}freeze/").json()
    assert (lifted["board_frozen_at"], lifted["board_frozen_now"]) == (None, False)
    edition.refresh_from_db()
    assert edition.board_frozen_at is None


def test_a_freeze_time_that_is_unreadable_or_past_the_close_is_refused(host, edition):
    body = assert_error(
        host.post(f"{BASE}freeze/", {"frozen_at": "next tuesday"}, format="json"), 400, "bad_time"
    )
    assert "'next tuesday' is not a date and time" in body["message"]
    late = (edition.closes_at + dt.timedelta(days=1)).isoformat()
    assert_error(
        host.post(f"{BASE}freeze/", {"frozen_at": late}, format="json"), 400, "freeze_late"
    )
    edition.refresh_from_db()
    assert edition.board_frozen_at is None


def test_the_controls_list_the_failed_reruns_whose_score_was_kept(host, edition, entries):
    scored = entries["scored"]
    hana = edition.host
    host_control.submissions_rerun(edition=edition, by=hana, submission_ids=[scored.pk])
    Submission.objects.filter(pk=scored.pk).update(status=Status.RUNNING, attempts=1)
    assert host_control.rerun_failure_record(
        submission_id=scored.pk,
        status=Status.RUNNING,
        attempts=1,
        error_code="model_crashed",
        error_message="exit status -11",
        now=timezone.now(),
    )
    (failure,) = host.get(BASE).json()["rerun_failures"]
    assert (failure["submission"], failure["method_name"], failure["team"]) == (
        str(scored.pk),
        "scored",
        "alice's team",
    )
    assert (failure["error_code"], failure["error_message"]) == ("model_crashed", "exit status -11")


def test_the_schema_documents_the_host_controls(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    edition = "/api/challenges/{slug}/editions/{edition}/host/"
    assert set(paths[edition]) == {"get"}
    assert {"202", "400", "401", "403", "404", "409"} <= set(
        paths[f"{edition}reruns/"]["post"]["responses"]
    )
    assert set(paths[f"{edition}pause/"]) == {"post", "delete"}
    assert set(paths[f"{edition}freeze/"]) == {"post", "delete"}
    freeze = paths[f"{edition}freeze/"]["post"]
    assert "application/json" in freeze["requestBody"]["content"]
