"""A submission's status and result, with the web pages' visibility rules; my submissions."""

from __future__ import annotations

import pytest

from leaderboard.models import Score
from tests.leaderboard.factories import make_edition, make_scored, make_team, make_user

from .conftest import assert_error

pytestmark = pytest.mark.django_db

RECORD = {
    "model_sha256": "ab" * 32,
    "format": "onnx",
    "device": "cpu",
    "versions": {"onnxruntime": "1.32.0"},
    "per_class_accuracy": [0.9, 0.8, 0.7, 0.6],
    "public_per_class_accuracy": [1.0, 0.5, 0.5, 0.5],
    "confusion_matrix": [[9, 1, 0, 0], [0, 8, 2, 0], [0, 0, 7, 3], [4, 0, 0, 6]],
    "public_confusion_matrix": [[5, 0, 0, 0], [0, 2, 3, 0], [0, 0, 2, 3], [1, 0, 0, 4]],
    "private": {"top1_error": 0.3, "top5_error": 0.0, "n_images": 50},
    "secret_internal_key": "not shown",
}


def scored_for(user, edition, **kwargs):
    team = make_team(edition=edition, name=user.username, users=[user])
    submission = make_scored(edition=edition, team=team, **kwargs)
    Score.objects.filter(submission=submission).update(record=RECORD)
    return submission


def test_open_edition_shows_the_public_part_only(alice_api, user, edition):
    submission = scored_for(user, edition, top1=0.25, top5=0.05, private=(0.3, 0.0))

    body = alice_api.get(f"/api/submissions/{submission.pk}/").json()

    assert body["status"] == "scored"
    assert body["errors"] == {
        "phase": "public",
        "top1_error": 0.25,
        "top5_error": 0.05,
        "balanced_error": None,  # scored before the metric existed
        "robust_error": None,  # not scored by the robustness track
    }
    result = body["result"]
    assert [p["part"] for p in result["parts"]] == ["public"]
    assert [c["accuracy"] for c in result["per_class_accuracy"]] == [1.0, 0.5, 0.5, 0.5]
    assert result["per_class_accuracy"][0]["class_name"] == "a"
    assert result["confusion_matrix"]["rows"] == RECORD["public_confusion_matrix"]
    assert result["record"] == {"model_sha256": "ab" * 32, "format": "onnx", "device": "cpu"}
    assert result["versions"] == {"onnxruntime": "1.32.0"}
    assert "0.3" not in str(body)  # no private number anywhere


def test_closed_edition_shows_private_and_all(alice_api, user, challenge):
    edition = make_edition(challenge=challenge, open_now=False)
    submission = scored_for(user, edition, top1=0.25, top5=0.05, private=(0.3, 0.0))

    body = alice_api.get(f"/api/submissions/{submission.pk}/").json()

    assert body["errors"] == {
        "phase": "private",
        "top1_error": 0.3,
        "top5_error": 0.0,
        "balanced_error": None,
        "robust_error": None,
    }
    result = body["result"]
    assert [p["part"] for p in result["parts"]] == ["public", "private", "all"]
    assert result["parts"][1] == {
        "part": "private",
        "top1_error": 0.3,
        "top5_error": 0.0,
        "balanced_error": None,
        "robust_error": None,
        "n_images": 50,
    }
    assert [c["accuracy"] for c in result["per_class_accuracy"]] == RECORD["per_class_accuracy"]
    assert result["confusion_matrix"]["rows"] == RECORD["confusion_matrix"]


def test_queued_and_failed_submissions_have_no_result(alice_api, user, edition):
    submission = scored_for(user, edition, top1=0.2, top5=0.1)
    submission.status, submission.error_code = "failed", "model_crashed"
    submission.error_message = "The model crashed."
    submission.save()
    body = alice_api.get(f"/api/submissions/{submission.pk}/").json()
    assert body["result"] is None and body["errors"]["phase"] is None
    assert (body["error_code"], body["error_message"]) == ("model_crashed", "The model crashed.")


def test_other_teams_submissions_are_not_found(api, alice_api, edition):
    bob = make_user("bob")
    theirs = scored_for(bob, edition, top1=0.2, top5=0.1)
    assert_error(alice_api.get(f"/api/submissions/{theirs.pk}/"), 404, "not_found")
    assert_error(api.get(f"/api/submissions/{theirs.pk}/"), 404, "not_found")


def test_staff_see_everything_and_anyone_sees_baselines(api, alice_api, user, edition):
    bob = make_user("bob")
    theirs = scored_for(bob, edition, top1=0.2, top5=0.1)
    baseline = make_scored(edition=edition, team=None, baseline=True, top1=0.5, top5=0.2)
    assert api.get(f"/api/submissions/{baseline.pk}/").json()["is_baseline"] is True
    user.is_staff = True
    user.save()
    assert alice_api.get(f"/api/submissions/{theirs.pk}/").json()["team"] == "bob"


def test_a_malformed_id_is_not_found(api):
    assert_error(api.get("/api/submissions/not-a-uuid/"), 404, "not_found")


def test_my_submissions_newest_first_paginated(
    alice_api, user, challenge, django_assert_max_num_queries
):
    old = make_edition(challenge=challenge, year=2024, open_now=False)
    new = make_edition(challenge=challenge, year=2025)
    scored_for(user, old, top1=0.2, top5=0.1, private=(0.25, 0.15))
    team = user.teams.get(edition=old)
    for _ in range(3):
        make_scored(edition=old, team=team, top1=0.2, top5=0.1)
    latest = scored_for(user, new, top1=0.1, top5=0.05)
    make_scored(
        edition=new,
        team=make_team(edition=new, name="bob", users=[make_user("bob")]),
        top1=0,
        top5=0,
    )

    with django_assert_max_num_queries(4):  # token, count, page (scores joined)
        body = alice_api.get("/api/me/submissions/?page_size=3").json()

    assert body["count"] == 5 and len(body["results"]) == 3 and body["next"]
    first = body["results"][0]
    assert first["id"] == str(latest.pk) and first["errors"]["phase"] == "public"
    assert "result" not in first


def test_my_submissions_needs_a_user(api):
    assert_error(api.get("/api/me/submissions/"), 401, "not_authenticated")
