"""The robustness track's own run: it never costs an entry its clean score, a re-run's new
score refuses the old measurement, and the sweeper sends again what the queue lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from leaderboard import services
from leaderboard.models import RobustnessRun, Submission
from leaderboard.services.host_control import submissions_rerun
from leaderboard.services.robustness_runs import (
    robustness_run_open,
    robustness_run_record,
    robustness_run_start,
    robustness_time_limit,
)
from leaderboard.tasks import score_robustness, score_submission

from .conftest import queued_ids
from .factories import make_edition, make_user, onnx_upload

pytestmark = pytest.mark.django_db(transaction=True)
ROBUSTNESS_TASK = "leaderboard.tasks.score_robustness"


@pytest.fixture
def scored(robust_challenge, user, gpu_queue) -> Submission:
    """An entry whose clean score is recorded and whose robustness run waits on the queue."""
    edition = make_edition(challenge=robust_challenge)
    submission = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="linear"
    )
    assert score_submission.apply(args=[str(submission.pk)], throw=True).get() == "scored"
    return Submission.objects.select_related("score").get(pk=submission.pk)


def test_the_time_limit_follows_the_clean_runs_pace_within_bounds(settings):
    settings.SCORING_TIMEOUT_S, settings.ROBUSTNESS_TIME_FACTOR = 600, 3.0
    settings.ROBUSTNESS_MIN_TIMEOUT_S, settings.ROBUSTNESS_MAX_TIMEOUT_S = 300, 8400
    # ResNet-20's clean run on the demo's set took 46.5 s on a busy 2-core box; the clean set and
    # the 13 copies at that pace, three times over:
    assert robustness_time_limit(record={"wall_seconds": 46.5}) == pytest.approx(3 * 14 * 46.5)
    assert robustness_time_limit(record={"wall_seconds": 0.4}) == 300  # at least the minimum
    assert robustness_time_limit(record={"wall_seconds": 590}) == 8400  # at most the maximum
    assert robustness_time_limit(record={"wall_seconds": "soon"}) == 300  # never trusted blindly
    assert robustness_time_limit(record={}) == 300


def test_the_queued_run_carries_celery_limits_above_its_own(scored, gpu_queue):
    import json

    (raw,) = [
        m
        for m in gpu_queue.lrange("gpu", 0, -1)
        if json.loads(m)["headers"]["task"] == ROBUSTNESS_TASK
    ]
    hard, soft = json.loads(raw)["headers"]["timelimit"]
    limit = robustness_time_limit(record=scored.score.record)
    assert limit < soft < hard


def test_the_robustness_board_counts_the_entries_still_waiting(scored, client):
    url = reverse("edition_robustness", args=[scored.edition.challenge.slug, scored.edition.slug])
    html = client.get(url).content.decode()
    assert 'id="robustness-measuring"' in html
    assert "1 scored entry is waiting for its robustness run" in html
    assert score_robustness.apply(args=[str(scored.pk)], throw=True).get() == "measured"
    html = client.get(url).content.decode()
    assert 'id="robustness-measuring"' not in html and "linear" in html


def test_a_time_limit_on_the_copies_keeps_the_clean_score(scored, user, client, settings):
    before = {f: getattr(scored.score, f) for f in ("top1_error", "top5_error", "n_images")}
    settings.ROBUSTNESS_MAX_TIMEOUT_S = 0.01  # no sandbox starts this fast: the evaluator's limit
    assert score_robustness.apply(args=[str(scored.pk)], throw=True).get() == "timeout"

    run = RobustnessRun.objects.get(submission=scored)
    assert run.status == RobustnessRun.Status.FAILED and run.error_code == "timeout"
    entry = Submission.objects.select_related("score").get(pk=scored.pk)
    assert entry.status == Submission.Status.SCORED
    assert {f: getattr(entry.score, f) for f in before} == before
    assert entry.score.robust_error is None and "robustness" not in entry.score.record

    client.force_login(user)
    api = client.get(f"/api/submissions/{scored.pk}/").json()["robustness"]
    assert api["status"] == "failed" and api["error_code"] == "timeout"
    html = client.get(reverse("submission_detail", args=[scored.pk])).content.decode()
    assert 'id="robustness-failed"' in html and run.error_message in html
    assert 'id="robustness-pending"' not in html and "submission_status.js" not in html
    board = client.get(
        reverse("edition_robustness", args=[scored.edition.challenge.slug, scored.edition.slug])
    ).content.decode()
    assert "linear" not in board  # left off the robustness board, still on the main one
    main = client.get(
        reverse("edition_leaderboard", args=[scored.edition.challenge.slug, scored.edition.slug])
    ).content.decode()
    assert "linear" in main


def test_a_measurement_of_a_score_since_re_run_is_refused(scored):
    job = robustness_run_start(submission_id=scored.pk, worker="old")
    assert job is not None
    robustness_run_open(submission_id=scored.pk, now=timezone.now())  # the re-run's new score
    result = {"robustness": {"summary": {"all": {"mean_top1_error": 0.01}}}}
    assert not robustness_run_record(job=job, result=result)
    score = Submission.objects.select_related("score").get(pk=scored.pk).score
    assert score.robust_error is None and "robustness" not in score.record
    run = RobustnessRun.objects.get(submission=scored)
    assert run.status == RobustnessRun.Status.PENDING and run.generation == job.generation + 1
    assert run.attempts == 0  # the new score's run starts with its own attempts


def test_a_host_re_run_reopens_the_run_and_measures_the_new_score(scored, user):
    assert score_robustness.apply(args=[str(scored.pk)], throw=True).get() == "measured"
    host = make_user("host")
    host.is_staff = True  # staff host every edition
    host.save()
    assert submissions_rerun(edition=scored.edition, by=host, submission_ids=[scored.pk])
    assert score_submission.apply(args=[str(scored.pk)], throw=True).get() == "scored"
    run = RobustnessRun.objects.get(submission=scored)
    assert run.status == RobustnessRun.Status.PENDING and run.generation == 2
    score = Submission.objects.select_related("score").get(pk=scored.pk).score
    assert score.robust_error is None  # the new score's copies are not measured yet
    assert score_robustness.apply(args=[str(scored.pk)], throw=True).get() == "measured"
    score.refresh_from_db()
    assert score.robust_error == score.record["robustness"]["summary"]["all"]["mean_top1_error"]


def test_the_sweeper_sends_again_what_the_queue_lost(scored, gpu_queue):
    gpu_queue.delete("gpu")
    long_ago = timezone.now() - dt.timedelta(hours=2)
    RobustnessRun.objects.filter(submission=scored).update(enqueued_at=None, opened_at=long_ago)
    report = services.submission_sweep()
    assert report.robustness_sent == [str(scored.pk)]
    assert queued_ids(gpu_queue, task=ROBUSTNESS_TASK) == [str(scored.pk)]
    assert "robustness run" in report.summary()

    # A worker that claimed the run and vanished: past the deadline it is taken back and sent.
    gpu_queue.delete("gpu")
    job = robustness_run_start(submission_id=scored.pk, worker="gone")
    RobustnessRun.objects.filter(submission=scored).update(deadline=long_ago)
    report = services.submission_sweep()
    assert report.robustness_sent == [str(scored.pk)]
    run = RobustnessRun.objects.get(submission=scored)
    assert run.status == RobustnessRun.Status.PENDING and run.attempts == job.attempt
    # the vanished worker's late result is refused: its claim no longer holds
    assert not robustness_run_record(job=job, result={"robustness": {"summary": {}}})
    assert score_robustness.apply(args=[str(scored.pk)], throw=True).get() == "measured"


def test_out_of_attempts_the_run_fails_and_the_page_says_why(scored, user, client, settings):
    RobustnessRun.objects.filter(submission=scored).update(
        status=RobustnessRun.Status.RUNNING,
        attempts=settings.SCORING_MAX_ATTEMPTS,
        deadline=timezone.now() - dt.timedelta(minutes=1),
    )
    report = services.submission_sweep()
    assert report.robustness_failed == [str(scored.pk)]
    run = RobustnessRun.objects.get(submission=scored)
    assert run.status == RobustnessRun.Status.FAILED and run.error_code == "platform_error"
    client.force_login(user)
    html = client.get(reverse("submission_detail", args=[scored.pk])).content.decode()
    assert "problem on the platform, not with the model" in html
    assert Submission.objects.get(pk=scored.pk).status == Submission.Status.SCORED
