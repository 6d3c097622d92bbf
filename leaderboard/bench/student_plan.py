"""What ``leaderboard.bench.load`` is asked to do with students: its command-line options, and
the queue their uploads are scored on. Free of Django: read before the settings are loaded,
since the web server's environment names the queue."""

from __future__ import annotations

import argparse
import os
import uuid
from dataclasses import dataclass

# The settings that route a scoring task (leaderboard.fleet.routing): all to the one queue.
QUEUE_SETTINGS = ("SCORING_QUEUE", "SCORING_QUEUE_CPU", "SCORING_QUEUE_LARGE")


@dataclass(frozen=True)
class StudentPlan:
    share: float  # of each Locust level's users
    at_once: int  # students uploading at the same moment, before the levels
    think_s: float
    drain_s: float  # how long to wait after a level for its uploads to be scored
    concurrency: int  # the worker's
    broker_url: str
    slug: str
    queue: str

    @property
    def enabled(self) -> bool:
        return self.share > 0 or self.at_once > 0

    def students_at(self, users: int) -> int:
        return round(self.share * users)

    def scoring_env(self) -> dict[str, str]:
        """What sends scoring to the plan's queue: the web server's and the worker's alike."""
        return dict.fromkeys(QUEUE_SETTINGS, self.queue) | {"CELERY_BROKER_URL": self.broker_url}


def add_student_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("students (a Celery worker scores their uploads)")
    group.add_argument(
        "--students-share",
        type=float,
        default=0.0,
        help="this fraction of each Locust level's users are students (default 0: visitors only)",
    )
    group.add_argument(
        "--at-once",
        type=int,
        default=0,
        help="before the levels, this many students upload at the same moment (e.g. 50)",
    )
    group.add_argument("--student-think", type=float, default=30.0, help="seconds between uploads")
    group.add_argument(
        "--drain", type=float, default=60.0, help="seconds to wait after a level for its uploads"
    )
    group.add_argument("--scoring-workers", type=int, default=1, help="the worker's concurrency")
    group.add_argument(
        "--broker-url",
        default=os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0",
        help="Redis for the students' queue (default: $CELERY_BROKER_URL)",
    )


def student_plan(args: argparse.Namespace) -> StudentPlan:
    if not 0 <= args.students_share <= 1:
        raise SystemExit("--students-share must be between 0 and 1")
    if args.students_share and not args.locust:
        raise SystemExit("--students-share needs --locust")
    return StudentPlan(
        share=args.students_share,
        at_once=args.at_once,
        think_s=args.student_think,
        drain_s=args.drain,
        concurrency=args.scoring_workers,
        broker_url=args.broker_url,
        slug=f"{args.slug}-students",
        queue=f"bench-students-{uuid.uuid4().hex[:8]}",
    )
