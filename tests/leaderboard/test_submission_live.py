"""A submission's page follows its status without a reload (issue 17, item 5), as "My
submissions" does: it polls while the submission is queued or running, under the page's own
visibility rule, then loads itself once so that the errors appear, and polls no more."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from leaderboard import services
from leaderboard.models import Submission

from .factories import make_edition, make_user, onnx_upload
from .test_browser import CHROMIUM, RESULT, log_in, page  # noqa: F401  (page: a fixture)


def status_url(submission: Submission) -> str:
    return reverse("submission_status", args=[submission.pk])


@pytest.mark.django_db
def test_the_status_endpoint_follows_the_pages_visibility(client, user, edition, gpu_queue):
    mine = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="mine"
    )
    assert client.get(status_url(mine)).status_code == 404  # a visitor: no such submission
    client.force_login(make_user("mallory"))
    assert client.get(status_url(mine)).status_code == 404  # another team's
    client.force_login(user)
    body = client.get(status_url(mine)).json()
    assert (body["id"], body["status"], body["final"]) == (str(mine.pk), "queued", False)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
def test_the_page_turns_to_scored_by_itself_then_stops_polling(
    page,  # noqa: F811
    live_server,
    challenge,
    gpu_queue,
):
    edition = make_edition(challenge=challenge)
    bea = make_user("bea")
    submission = services.submission_create(
        edition=edition, user=bea, upload=onnx_upload(), method_name="live page"
    )
    log_in(page, live_server, "bea")
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/status/" in r.url else None)
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))

    page.goto(f"{live_server.url}{submission.get_absolute_url()}")
    assert page.locator("#submission-status").get_attribute("data-status") == "queued"
    job = services.submission_start(submission_id=submission.pk, worker="w")
    page.wait_for_selector("#submission-status[data-status=running] >> text=Running")
    services.score_record(submission_id=submission.pk, attempt=job.attempt, result=RESULT)

    page.wait_for_selector("#submission-status[data-status=scored] >> text=Scored")
    page.wait_for_selector("h2:text('Errors')")  # the page loaded itself once, with the score
    assert len(loads) == 2  # the visit and that one reload: no more
    seen = len(polls)
    assert seen >= 2
    time.sleep(5)  # over two polling periods
    assert len(polls) == seen  # final: no more polling
    assert page.locator("tr[data-part=public] td[data-metric]").count() > 0
