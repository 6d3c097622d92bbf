"""Races against the real PostgreSQL: each thread has its own connection and transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from leaderboard import services
from leaderboard.errors import SubmissionRefused
from leaderboard.models import Submission, Team

from .factories import make_edition, make_team, make_user, onnx_upload

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Start ``count`` threads together at a barrier; return each one's result or exception."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # collected and asserted on by the caller
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_daily_limit_is_exact_under_parallel_uploads(challenge, settings, gpu_queue):
    edition = make_edition(challenge=challenge, daily_limit=3, total_limit=100)
    users = [make_user("ann"), make_user("bob")]
    team = make_team(edition=edition, name="pair", users=users)

    def submit(index: int) -> Submission:
        return services.submission_create(
            edition=edition,
            user=users[index % 2],
            upload=onnx_upload(),
            method_name=f"try {index}",
        )

    results = run_in_threads(10, submit)

    created = [r for r in results if isinstance(r, Submission)]
    refused = [r for r in results if isinstance(r, SubmissionRefused)]
    assert len(created) == 3, results
    assert len(refused) == 7
    assert {r.code for r in refused} == {"daily_limit"}
    assert Submission.objects.filter(team=team).count() == 3
    stored = [p for p in (settings.MEDIA_ROOT / "submissions").rglob("*") if p.is_file()]
    assert len(stored) == 3  # refused uploads leave no file behind


def test_parallel_first_submissions_make_one_team(challenge):
    edition = make_edition(challenge=challenge, daily_limit=50)
    user = make_user("carol")

    results = run_in_threads(
        6,
        lambda i: services.submission_create(
            edition=edition, user=user, upload=onnx_upload(), method_name=str(i)
        ),
    )

    assert all(isinstance(r, Submission) for r in results), results
    assert Team.objects.filter(edition=edition).count() == 1
    assert {r.team_id for r in results} == {Team.objects.get().pk}


def test_a_running_attempt_is_recorded_exactly_once(edition, user):
    submission = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="m"
    )
    starts = run_in_threads(
        8, lambda i: services.submission_start(submission_id=submission.pk, worker=f"w{i}")
    )
    jobs = [s for s in starts if s is not None]
    assert len(jobs) == 1, starts
    attempt = jobs[0].attempt
    assert attempt == 1

    result = {
        "top1_error": 0.5,
        "top5_error": 0.1,
        "n_images": 10,
        "public": {"top1_error": 0.4, "top5_error": 0.0, "n_images": 5},
        "private": {"top1_error": 0.6, "top5_error": 0.2, "n_images": 5},
    }
    recorded = run_in_threads(
        8,
        lambda i: (
            services.score_record(submission_id=submission.pk, attempt=attempt, result=result)
            if i % 2
            else services.score_record(
                submission_id=submission.pk,
                attempt=attempt,
                error_code="timeout",
                error_message="x",
            )
        ),
    )
    assert recorded.count(True) == 1, recorded
    assert recorded.count(False) == 7
    submission.refresh_from_db()
    assert submission.status in (Submission.Status.SCORED, Submission.Status.FAILED)
    assert submission.attempts == 1
    has_score = hasattr(submission, "score")
    assert has_score == (submission.status == Submission.Status.SCORED)
