"""A host's re-run that fails (issue 16, section 3): the entry keeps its score and its place.

Through the real services, database and pages: the worker's failure report (``score_record``)
puts the entry back to scored with the score it had, records the failure with its code,
message and the set it was tried on; every board still ranks the entry; the submission page,
the API and the host page say so; the team is told the re-run failed, not that it scored.
"""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from leaderboard import selectors, services
from leaderboard.api import tokens
from leaderboard.metrics import PUBLIC
from leaderboard.models import (
    ActivityDay,
    Challenge,
    Membership,
    Notification,
    RerunFailure,
    Score,
    Submission,
    SupersededScore,
)
from leaderboard.services import host_control
from leaderboard.services.notifications.events import submission_notifications

from .factories import make_scored, make_team, make_user

pytestmark = pytest.mark.django_db
Status = Submission.Status
CRASH = "The model's process crashed (exit status -11) on the first batch."


@pytest.fixture
def host(edition):
    host = make_user("host")
    edition.host = host
    edition.save(update_fields=["host"])
    return host


@pytest.fixture
def scored(edition, user):
    team = make_team(edition=edition, name="alice's team", users=[user])
    rival = make_team(edition=edition, name="rival")
    make_scored(edition=edition, team=rival, top1=0.3, top5=0.2, method="rival")
    return make_scored(
        edition=edition,
        team=team,
        top1=0.25,
        top5=0.1,
        method="ours",
        record={"dataset_fingerprint": "fp-old"},
    )


def fail_rerun(submission: Submission, *, host, code: str = "model_crashed") -> bool:
    """The host re-runs it on a changed set; a worker claims it and reports the model's error."""
    Challenge.objects.filter(pk=submission.edition.challenge_id).update(
        dataset_fingerprint="fp-new"
    )
    assert host_control.submissions_rerun(
        edition=submission.edition, by=host, submission_ids=[submission.pk]
    ) == [str(submission.pk)]
    job = services.submission_start(submission_id=submission.pk, worker="w")
    assert job is not None
    return services.score_record(
        submission_id=submission.pk, attempt=job.attempt, error_code=code, error_message=CRASH
    )


def test_a_failed_rerun_keeps_the_score_and_records_the_failure(edition, host, scored):
    before = Score.objects.get(submission=scored)
    assert fail_rerun(scored, host=host)

    scored.refresh_from_db()
    assert (scored.status, scored.error_code, scored.error_message) == (Status.SCORED, "", "")
    assert (scored.reruns, scored.attempts) == (1, 1)  # make_scored's row had no attempt
    after = Score.objects.get(submission=scored)
    assert (after.pk, after.created_at, after.public_top5_error) == (
        before.pk,
        before.created_at,
        0.1,
    )
    assert not SupersededScore.objects.exists()
    (failure,) = RerunFailure.objects.all()
    assert (failure.error_code, failure.error_message) == ("model_crashed", CRASH)
    assert (failure.dataset_fingerprint, failure.attempt) == ("fp-new", 1)
    assert failure.edition_id == edition.pk
    # The charts' day counts it as scored again (the re-run had taken it out).
    (day,) = ActivityDay.objects.filter(edition=edition)
    assert (day.submissions, day.scored, day.best) == (2, 2, 0.1)
    # Every board still ranks it, where it was.
    rows = selectors.leaderboard_rows(edition=edition, phase=PUBLIC, metric="top5")
    assert [(r.method_name, r.metric_value) for r in rows] == [("ours", 0.1), ("rival", 0.2)]


def test_a_late_or_repeated_failure_report_records_nothing(edition, host, scored):
    assert fail_rerun(scored, host=host)
    scored.refresh_from_db()
    again = services.score_record(
        submission_id=scored.pk, attempt=scored.attempts, error_code="x", error_message="y"
    )
    assert again is False
    assert RerunFailure.objects.count() == 1


def test_a_rerun_that_scores_after_a_failed_one_replaces_the_score(edition, host, scored):
    assert fail_rerun(scored, host=host)
    host_control.submissions_rerun(edition=edition, by=host, submission_ids=[scored.pk])
    job = services.submission_start(submission_id=scored.pk, worker="w")
    result = {
        "top1_error": 0.5,
        "top5_error": 0.25,
        "n_images": 100,
        "public": {"top1_error": 0.5, "top5_error": 0.25, "n_images": 50},
        "private": {"top1_error": 0.5, "top5_error": 0.25, "n_images": 50},
        "dataset_fingerprint": "fp-new",
    }
    assert services.score_record(submission_id=scored.pk, attempt=job.attempt, result=result)
    assert Score.objects.get(submission=scored).public_top5_error == 0.25
    assert host_control.rerun_failures_standing(edition=edition) == []  # resolved since
    assert RerunFailure.objects.count() == 1  # still in the history


def test_a_failed_entry_whose_rerun_fails_stays_failed(edition, host, user):
    team = make_team(edition=edition, name="t", users=[user])
    entry = make_scored(edition=edition, team=team, top1=0.5, top5=0.3)
    Score.objects.filter(submission=entry).delete()
    Submission.objects.filter(pk=entry.pk).update(
        status=Status.FAILED, error_code="model_crashed", error_message="old"
    )
    assert fail_rerun(entry, host=host, code="model_crashed")
    entry.refresh_from_db()
    assert (entry.status, entry.error_message) == (Status.FAILED, CRASH)
    assert not RerunFailure.objects.exists()


def test_the_pages_and_the_api_say_the_score_was_kept(client, edition, host, user, scored):
    assert fail_rerun(scored, host=host)
    client.force_login(user)
    page = client.get(scored.get_absolute_url()).content.decode()
    section = page[page.index('id="score-history"') :]
    assert 'id="rerun-failed-notice"' in section and "stays current" in section
    assert re.search(r'<tr class="current" data-fingerprint="fp-old">', section)
    assert 'id="score-kept"' in section
    failures = re.findall(
        r'<tr class="rerun-failure" data-error-code="([^"]+)" data-fingerprint="([^"]+)">',
        section,
    )
    assert failures == [("model_crashed", "fp-new")]
    assert html.escape(CRASH) in section

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_create(user=user).key}")
    body = api.get(f"/api/submissions/{scored.pk}/").json()
    assert (body["status"], body["score_kept"], body["reruns"]) == ("scored", True, 1)
    (failure,) = body["rerun_failures"]
    assert (failure["error_code"], failure["error_message"]) == ("model_crashed", CRASH)
    assert failure["dataset_fingerprint"] == "fp-new"
    assert body["errors"]["top5_error"] == 0.1

    client.force_login(host)
    host_page = client.get(f"/c/{edition.challenge.slug}/{edition.slug}/host/").content.decode()
    panel = host_page[host_page.index('id="rerun"') :]
    assert f'<tr class="rerun-failure" data-submission="{scored.pk}"' in panel
    assert "model_crashed" in panel and html.escape(CRASH) in panel
    assert "re-run failed" in host_page  # the entries table marks the row


def test_a_page_never_rerun_makes_no_query_for_failures(client, edition, user, scored):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(scored.get_absolute_url()).status_code == 200
    table = RerunFailure._meta.db_table
    assert not [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_the_team_is_told_the_rerun_failed_and_its_score_stays(edition, host, user, scored):
    user.email = "alice@example.org"
    user.save()
    assert fail_rerun(scored, host=host)
    ids = submission_notifications(str(scored.pk))
    (note,) = Notification.objects.filter(pk__in=ids)
    assert note.user_id == user.pk
    assert note.subject.startswith("Re-run failed: ours (model_crashed)")
    assert "previous score stays current" in note.body and CRASH in note.body
    assert note.key.endswith(":rerun_failed")
    assert Membership.objects.filter(team_id=scored.team_id).count() == 1
