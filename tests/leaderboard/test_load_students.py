"""The load benchmark's students: accounts with working tokens, and the locustfile's student
uploading through the API of a live server and polling its own submission."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from leaderboard.api.tokens import token_find
from leaderboard.bench.locust_level import LOCUSTFILE, read_stats
from leaderboard.bench.student_plan import QUEUE_SETTINGS
from leaderboard.bench.students import queue_delete, students_create, students_remove
from leaderboard.bench.upload_timing import read_upload_log, upload_figures, uploads_at_once
from leaderboard.models import Submission

pytestmark = pytest.mark.django_db(transaction=True)
SLUG = "students-test"


@pytest.fixture
def own_queue(settings):
    """Scoring sent to a queue of this test's own (no worker), emptied afterwards."""
    queue = f"test-students-{uuid.uuid4().hex[:8]}"
    for name in QUEUE_SETTINGS:
        setattr(settings, name, queue)
    yield queue
    queue_delete(queue=queue, broker_url=settings.CELERY_BROKER_URL)


def test_students_have_accounts_and_tokens_of_their_own(tmp_path: Path, own_queue) -> None:
    students = students_create(slug=SLUG, count=3, uploads_each=5, scratch=tmp_path)
    owners = [token_find(key=key).user for key in students.tokens]
    assert sorted(u.username for u in owners) == [f"{SLUG}-0000", f"{SLUG}-0001", f"{SLUG}-0002"]
    assert not any(u.has_usable_password() for u in owners)
    assert students.edition.daily_limit == students.edition.total_limit == 5
    assert (
        students.submit_path
        == f"/api/challenges/{SLUG}/editions/{students.edition.slug}/submissions/"
    )
    students_remove(slug=SLUG)
    assert all(token_find(key=key) is None for key in students.tokens)


def test_locust_students_upload_then_poll_their_own(live_server, tmp_path: Path, own_queue) -> None:
    students = students_create(slug=SLUG, count=4, uploads_each=5, scratch=tmp_path)
    # Two upload at once through the bench's own client...
    taken, refused = uploads_at_once(base=live_server.url, students=students, count=2)
    assert refused == [] and len(taken) == 2
    # ... and three through Locust's students (each its own account).
    log = tmp_path / "uploads.log"
    env = {
        **os.environ,
        "BENCH_STUDENTS": str(students.write(tmp_path / "students.json")),
        "BENCH_STUDENT_USERS": "3",
        "BENCH_UPLOAD_LOG": str(log),
    }
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "Student", "--headless"]
    argv += ["--users", "3", "--spawn-rate", "3", "--run-time", "4s", "--stop-timeout", "5"]
    argv += ["--host", live_server.url, "--csv", str(tmp_path / "run"), "--only-summary"]
    run = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    stats = {page.name: page for page in read_stats(tmp_path / "run_stats.csv")}
    assert run.returncode == 0, run.stderr[-3000:]
    # Nothing scores them here: each student uploads once, then follows its upload.
    assert stats["api_upload"].requests == 3 and stats["api_upload"].failures == 0
    assert stats["api_status"].requests >= 3 and stats["api_status"].failures == 0
    uploads = read_upload_log(log)
    rows = Submission.objects.filter(pk__in=[u.submission_id for u in uploads])
    assert sorted(r.submitted_by.username for r in rows) == [f"{SLUG}-000{i}" for i in range(3)]
    assert {r.status for r in rows} == {Submission.Status.QUEUED}
    figures = upload_figures(uploads=taken + uploads, wait_s=0)
    assert figures.uploads == 5 and len(figures.request_s) == 5
    assert figures.to_running_s == []  # no worker: none claimed
    students_remove(slug=SLUG)
