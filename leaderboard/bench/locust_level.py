"""One level of ``leaderboard.bench.load`` driven by Locust instead of threads.

Locust (``locustfile.py`` beside this file) runs headless in a process of its own for the
level's duration, with ``--users`` users spawned at up to 100 a second, and writes its figures
as CSV; they are read back here per page: requests, failures, p50/p95/p99 (Locust's, which
rounds times above 100 ms to two significant digits) and requests per second. Its CPU time is
counted as the users'.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .evidence import CpuSampler, WaitSampler
from .load import CpuUse, box_cpu_s, children_cpu_s

if TYPE_CHECKING:
    from .load_students import StudentSide

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
SPAWN_RATE = 100  # users started per second


@dataclass(frozen=True)
class LocustPage:
    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_second: float


@dataclass(frozen=True)
class LocustLevel:
    users: int
    duration_s: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    pages: list[LocustPage]  # the pages, then Locust's "Aggregated" row
    cpu: CpuUse
    first_error: str = ""


def run_locust_level(
    *,
    base: str,
    urls: dict[str, str],
    users: int,
    duration: float,
    server_pid: int,
    var: Path,
    extra_env: Mapping[str, str] | None = None,
    classes: Sequence[str] = ("Visitor",),
) -> LocustLevel:
    """Run Locust headless against ``base`` for ``duration`` seconds with ``users`` users of
    the locustfile's ``classes`` (students: see ``load_students``, which gives ``extra_env``)."""
    prefix = var / f"locust-{users}"
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        *classes,
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(min(users, SPAWN_RATE)),
        "--run-time",
        f"{max(1, round(duration))}s",
        "--host",
        base,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "60",
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, "BENCH_PAGES": json.dumps(urls), **(extra_env or {})}
    load_before = os.getloadavg()
    box_before, server_before = box_cpu_s(), children_cpu_s(server_pid)
    users_before = _children_cpu_s()
    began = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - began
    box_after = box_cpu_s()
    cpu = CpuUse(
        box_busy_s=box_after[0] - box_before[0],
        box_total_s=box_after[1] - box_before[1],
        server_s=children_cpu_s(server_pid) - server_before,
        users_s=_children_cpu_s() - users_before,
    )
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise SystemExit(
            f"locust wrote no figures (exit {done.returncode}):\n{done.stderr[-3000:]}"
        )
    return LocustLevel(
        users=users,
        duration_s=elapsed,
        load_before=load_before,
        load_after=os.getloadavg(),
        pages=read_stats(stats),
        cpu=cpu,
        first_error=_first_failure(Path(f"{prefix}_failures.csv")),
    )


def locust_levels(
    args: argparse.Namespace,
    *,
    base: str,
    urls: dict[str, str],
    server_pid: int,
    var: Path,
    side: StudentSide | None,
    out: Callable[[str], None],
) -> None:
    """Each ``--users`` level through Locust, in the order given, with its evidence."""
    from django.db import connection

    from .upload_timing import report_uploads

    trees = {"gunicorn": server_pid} | ({"worker": side.worker_pid} if side else {})
    database = connection.settings_dict["NAME"]
    levels = []
    for users in args.users:
        extra_env, classes = side.locust_env(users=users) if side else ({}, ["Visitor"])
        with CpuSampler(trees=trees, database=database) as cpu, WaitSampler() as waits:
            level = run_locust_level(
                base=base,
                urls=urls,
                users=users,
                duration=args.duration,
                server_pid=server_pid,
                var=var,
                extra_env=extra_env,
                classes=classes,
            )
        report_locust(level, out)
        out(f"  {cpu.line()}")
        out(f"  {waits.line()}")
        figures = side.level_uploads(users=users) if side else None
        if figures is not None:
            students = side.plan.students_at(users)
            report_uploads(f"the {students} students' uploads during the level", figures, out)
        levels.append(
            asdict(level)
            | {
                "cpu_by_role_s": cpu.by_role(),
                "pg_backends": waits.means(),
                "students": classes != ["Visitor"],
            }
            | ({"uploads": asdict(figures)} if figures else {})
        )
    if args.json:
        payload = {"cores": os.cpu_count(), "workers": args.workers, "urls": urls, "locust": levels}
        args.json.write_text(json.dumps(payload, indent=2))


def read_stats(path: Path) -> list[LocustPage]:
    """Locust's ``<prefix>_stats.csv``: one row per page name, then "Aggregated"."""
    with path.open(newline="") as handle:
        return [
            LocustPage(
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                p50_ms=_number(row["50%"]),
                p95_ms=_number(row["95%"]),
                p99_ms=_number(row["99%"]),
                per_second=_number(row["Requests/s"]),
            )
            for row in csv.DictReader(handle)
        ]


def report_locust(level: LocustLevel, out: Callable[[str], None]) -> None:
    load = ", ".join(f"{x:.2f}" for x in level.load_before)
    after = ", ".join(f"{x:.2f}" for x in level.load_after)
    total = next((p for p in level.pages if p.name == "Aggregated"), None)
    out(
        f"\n{level.users} users (Locust), {level.duration_s:.1f} s: "
        f"{total.requests if total else 0} requests, {total.failures if total else 0} failures, "
        f"{total.per_second if total else 0:.1f} requests/s "
        f"(load average before {load}, after {after})"
    )
    head = "".join(f"{h:>9}" for h in ("requests", "failures", "p50 ms", "p95 ms", "p99 ms"))
    out(f"  {'page':<16}{head}")
    for page in level.pages:
        cells = "".join(f"{v:9.0f}" for v in (page.p50_ms, page.p95_ms, page.p99_ms))
        out(f"  {page.name:<16}{page.requests:9d}{page.failures:9d}{cells}")
    out(f"  {level.cpu.line()}")
    if level.first_error:
        out(f"  first failure: {level.first_error}")


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished children (the Locust runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "N/A" where a page had no request
        return float("nan")


def _first_failure(path: Path) -> str:
    if not path.exists():
        return ""
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            return f"{row.get('Name', '')}: {row.get('Error', '')} ({row.get('Occurrences', '')}x)"
    return ""
