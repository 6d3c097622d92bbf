"""The students' side of ``leaderboard.bench.load``: their accounts, the worker that scores their
uploads, the uploads at once, and each Locust level's students and upload figures.

The web server and the worker send and take scoring on a queue of the benchmark's own, on the
broker given (``StudentPlan.scoring_env``), so that the benchmark never feeds another worker
nor is fed by one.
Each level's students log their uploads to a file of their own; after the level the benchmark
waits up to ``drain_s`` for them to be scored, reports upload to running, then empties the
queue, so that one level's backlog does not run into the next.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from leaderboard import processes

from .student_plan import StudentPlan
from .students import Students, queue_delete, start_worker, students_create, students_remove
from .upload_timing import (
    UploadFigures,
    read_upload_log,
    report_uploads,
    upload_figures,
    uploads_at_once,
)

UPLOAD_LIMIT = 1000  # per student and edition: never the limit that stops a run


@dataclass
class StudentSide:
    plan: StudentPlan
    students: Students
    files: Path
    worker_pid: int

    def locust_env(self, *, users: int) -> tuple[dict[str, str], list[str]]:
        """The environment and the user classes of one Locust level."""
        count = self.plan.students_at(users)
        if count == 0:
            return {}, ["Visitor"]
        env = {
            "BENCH_STUDENTS": str(self.students.write(self.files / "students.json")),
            "BENCH_STUDENT_USERS": str(count),
            "BENCH_STUDENT_THINK_S": str(self.plan.think_s),
            "BENCH_UPLOAD_LOG": str(self._log(users)),
        }
        classes = ["Visitor", "Student"] if count < users else ["Student"]
        return env, classes

    def level_uploads(self, *, users: int) -> UploadFigures | None:
        """Upload to running for the level's uploads; then the queue is emptied."""
        if self.plan.students_at(users) == 0:
            return None
        figures = upload_figures(
            uploads=read_upload_log(self._log(users)), wait_s=self.plan.drain_s
        )
        queue_delete(queue=self.plan.queue, broker_url=self.plan.broker_url, bindings=False)
        return figures

    def at_once(self, *, base: str, out: Callable[[str], None]) -> UploadFigures | None:
        if not self.plan.at_once:
            return None
        uploads, refused = uploads_at_once(
            base=base, students=self.students, count=self.plan.at_once
        )
        figures = upload_figures(
            uploads=uploads, refused=refused, wait_s=max(self.plan.drain_s, 300)
        )
        report_uploads(f"{self.plan.at_once} students uploading at once, idle site", figures, out)
        return figures

    def _log(self, users: int) -> Path:
        return self.files / f"uploads-{users}.log"


@contextlib.contextmanager
def students_running(
    *,
    plan: StudentPlan,
    env: dict[str, str],
    accounts: int,
    var: Path,
    out: Callable[[str], None],
) -> Iterator[StudentSide]:
    """Accounts, the edition and a worker on the plan's queue; all removed and stopped on the
    way out. ``env``: the web server's, which the worker shares (settings, storage, queue)."""
    files = var / "students"
    files.mkdir(parents=True, exist_ok=True)
    worker = None
    try:
        students = students_create(
            slug=plan.slug, count=accounts, uploads_each=UPLOAD_LIMIT, scratch=files
        )
        worker = start_worker(
            env=env, queue=plan.queue, concurrency=plan.concurrency, log=files / "worker.log"
        )
        out(
            f"students: {accounts} accounts with API tokens; a Celery worker "
            f"(concurrency {plan.concurrency}) on queue {plan.queue}; "
            f"uploads to {students.submit_path}"
        )
        yield StudentSide(plan=plan, students=students, files=files, worker_pid=worker.pid)
    finally:
        if worker is not None:
            processes.stop(worker, grace_s=20)
        queue_delete(queue=plan.queue, broker_url=plan.broker_url)
        students_remove(slug=plan.slug)
