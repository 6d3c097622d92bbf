"""The public pages under concurrent users, through gunicorn as production runs it.

    python -m leaderboard.bench.load --database-url postgres://postgres@127.0.0.1:5432/bench \\
        --submissions 100000 --teams 700 --users 1,10,50 --duration 30 --workers 2

Seeds one edition with ``bench_leaderboard``'s seeding code, collects the static files, starts
gunicorn with ``leaderboard.settings.production`` (``DEBUG`` off, WhiteNoise, the Redis cache)
on a free port, then for each number of users runs that many threads, each with its own HTTP
session, cycling for ``--duration`` seconds through the pages a visitor and a student open:
home, challenge, leaderboard, charts, robustness board, a submission, the API's leaderboard.
Prints per page the requests, the errors (the first one shown) and p50/p95/p99, the requests
per second, the load average before and after, and each level's ratios to the one-user run of
the same invocation. Then stops gunicorn and removes the seeded rows (``--keep`` leaves them,
and a later ``--reuse`` measures them again without seeding). ``--locust`` drives the
levels with Locust (``bench/locustfile.py``, the same pages) instead of the threads, e.g.
``--users 50,200,500``.

With ``--students-share`` part of each Locust level's users are students (``bench/students.py``:
accounts with API tokens, made here) who upload a tiny ONNX model through the API and poll
its status as the command line does, scored by a real Celery worker started on a queue of its
own (``--broker-url``); ``--at-once`` students upload at the same moment before the levels.
Both print upload to running (the request to the worker's ``started_at``). Each Locust level
also prints the CPU seconds of each kind of process (``/proc``) and what PostgreSQL's backends
were doing (``pg_stat_activity``), for what limits the site.

The users run on the same machine as the server, so they take CPU from it: the figures are
those of the whole box. Writes to the database given: point it at a scratch one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .stats import percentile
from .student_plan import add_student_arguments, student_plan

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "leaderboard.settings.production"
# One address sends every request here: the API's per-address limit would stop the run.
THROTTLE = "100000000/hour"
START_TIMEOUT_S = 120
# Behind the production proxy every request arrives as HTTPS (else: a redirect to https://).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass
class PageStats:
    seconds: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def requests(self) -> int:
        return len(self.seconds) + self.errors


@dataclass
class CpuUse:
    """CPU seconds spent during a level: the whole box, gunicorn's workers, the users."""

    box_busy_s: float
    box_total_s: float  # wall time times cores
    server_s: float
    users_s: float

    def line(self) -> str:
        rest = self.box_busy_s - self.server_s - self.users_s
        busy = 100 * self.box_busy_s / self.box_total_s if self.box_total_s else 0.0
        return (
            f"CPU: box {busy:.0f}% busy ({self.box_busy_s:.1f} of {self.box_total_s:.1f} core-s): "
            f"gunicorn workers {self.server_s:.1f} s, the users {self.users_s:.1f} s, "
            f"the rest (PostgreSQL, Redis, other work) {rest:.1f} s"
        )


@dataclass
class LevelResult:
    users: int
    duration_s: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    pages: dict[str, PageStats]
    cpu: CpuUse | None = None

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.pages.values())

    @property
    def errors(self) -> int:
        return sum(p.errors for p in self.pages.values())

    @property
    def per_second(self) -> float:
        return self.requests / self.duration_s

    def summary(self, page: str) -> dict[str, float]:
        stats = self.pages[page]
        ms = [s * 1000 for s in stats.seconds]
        out: dict[str, float] = {"requests": stats.requests, "errors": stats.errors}
        if ms:
            out |= {f"p{q}_ms": percentile(ms, q) for q in (50, 95, 99)}
        return out


def box_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (Linux)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle and waiting for I/O
    return (sum(fields) - idle) / tick, sum(fields) / tick


def children_cpu_s(pid: int) -> float:
    """User and system CPU seconds of a process's live children (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    total = 0.0
    for child in children:
        try:
            stat = Path(f"/proc/{child}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(*, database_url: str, cache_url: str, var: Path) -> dict[str, str]:
    """What production reads from its environment, with values for a local run."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        LEADERBOARD_VAR_DIR=str(var),
        DJANGO_STATIC_ROOT=str(var / "static"),
        API_THROTTLE_USER=THROTTLE,
    )
    return env


def page_urls(*, slug: str) -> dict[str, str]:
    """The public pages of the seeded edition (a baseline's page: baselines are public)."""
    from leaderboard.models import Edition, Submission

    edition = Edition.objects.select_related("challenge").get(challenge__slug=slug)
    year = edition.slug
    baseline = Submission.objects.filter(edition=edition, is_baseline=True).first()
    if baseline is None:
        raise SystemExit("the seeded edition has no baseline: pass --baselines 1 or more")
    return {
        "home": "/",
        "challenge": f"/c/{slug}/",
        "leaderboard": f"/c/{slug}/{year}/",
        "charts": f"/c/{slug}/{year}/charts/",
        "robustness": f"/c/{slug}/{year}/robustness/",
        "submission": f"/submissions/{baseline.pk}/",
        "api_leaderboard": f"/api/challenges/{slug}/editions/{year}/leaderboard/",
    }


def start_gunicorn(*, env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "leaderboard.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "300",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            answer = requests.get(f"{base}/healthz", headers=PROXY_HEADERS, timeout=5)
            if answer.status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"gunicorn did not answer within {START_TIMEOUT_S} s; see {log}")


def run_level(
    *, base: str, urls: dict[str, str], users: int, duration: float, server_pid: int
) -> LevelResult:
    """``users`` threads, each with its own session, cycling through ``urls`` until time's up."""
    pages = {name: PageStats() for name in urls}
    order = list(urls.items())
    lock = threading.Lock()
    start = threading.Barrier(users + 1)
    deadline = [0.0]

    def user(index: int) -> None:
        session = requests.Session()
        session.headers.update(PROXY_HEADERS)
        step = index  # users start on different pages
        start.wait()
        while time.monotonic() < deadline[0]:
            name, path = order[step % len(order)]
            step += 1
            error = ""
            began = time.perf_counter()
            try:
                response = session.get(base + path, timeout=60, allow_redirects=False)
                response.content  # noqa: B018 (the whole body is part of the request)
                if not 200 <= response.status_code < 300:
                    error = f"{name} {path}: HTTP {response.status_code}"
            except requests.RequestException as exc:
                error = f"{name} {path}: {type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - began
            with lock:
                if error:
                    pages[name].errors += 1
                    pages[name].first_error = pages[name].first_error or error
                else:
                    pages[name].seconds.append(elapsed)
        session.close()

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    load_before = os.getloadavg()
    box_before, server_before = box_cpu_s(), children_cpu_s(server_pid)
    users_before = time.process_time()
    deadline[0] = time.monotonic() + duration
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join()
    box_after = box_cpu_s()
    cpu = CpuUse(
        box_busy_s=box_after[0] - box_before[0],
        box_total_s=box_after[1] - box_before[1],
        server_s=children_cpu_s(server_pid) - server_before,
        users_s=time.process_time() - users_before,
    )
    return LevelResult(
        users=users,
        duration_s=time.monotonic() - began,
        load_before=load_before,
        load_after=os.getloadavg(),
        pages=pages,
        cpu=cpu,
    )


def report(level: LevelResult, single: LevelResult | None, out: Callable[[str], None]) -> None:
    load = ", ".join(f"{x:.2f}" for x in level.load_before)
    after = ", ".join(f"{x:.2f}" for x in level.load_after)
    out(
        f"\n{level.users} users, {level.duration_s:.1f} s: {level.requests} requests, "
        f"{level.errors} errors, {level.per_second:.1f} requests/s "
        f"(load average before {load}, after {after})"
    )
    ratio_head = "  p95 vs 1 user" if single else ""
    head = "".join(f"{h:>9}" for h in ("requests", "errors", "p50 ms", "p95 ms", "p99 ms"))
    out(f"  {'page':<16}{head}{ratio_head}")
    for name in level.pages:
        s = level.summary(name)
        cells = "".join(
            f"{s[k]:9.1f}" if k in s else f"{'-':>9}" for k in ("p50_ms", "p95_ms", "p99_ms")
        )
        ratio = ""
        if single and "p95_ms" in s and "p95_ms" in single.summary(name):
            ratio = f"  {s['p95_ms'] / single.summary(name)['p95_ms']:13.1f}x"
        out(f"  {name:<16}{s['requests']:9.0f}{s['errors']:9.0f}{cells}{ratio}")
    if level.cpu:
        out(f"  {level.cpu.line()}")
    if single:
        out(f"  requests/s vs 1 user: {level.per_second / single.per_second:.2f}x")
    for name, stats in level.pages.items():
        if stats.first_error:
            out(f"  first error on {name}: {stats.first_error}")


def as_json(level: LevelResult) -> dict:
    return {
        "users": level.users,
        "duration_s": level.duration_s,
        "requests": level.requests,
        "errors": level.errors,
        "requests_per_s": level.per_second,
        "load_before": list(level.load_before),
        "load_after": list(level.load_after),
        "pages": {name: level.summary(name) for name in level.pages},
        "first_errors": {n: p.first_error for n, p in level.pages.items() if p.first_error},
        "cpu_s": level.cpu.__dict__ if level.cpu else None,
    }


def parse_users(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--users wants numbers separated by commas, got {text!r}"
        ) from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"--users wants one or more numbers >= 1, got {text!r}")
    return levels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a scratch PostgreSQL database, migrated here if needed (default: $DATABASE_URL)",
    )
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/1")
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--teams", type=int, default=700)
    parser.add_argument("--baselines", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slug", default="bench-load")
    parser.add_argument("--users", type=parse_users, default=[1, 10, 50], help="e.g. 1,10,50")
    parser.add_argument("--duration", type=float, default=30, help="seconds per number of users")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--keep", action="store_true", help="leave the seeded rows in place")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the edition of --slug as it is if there is one (seeded with --keep), "
        "instead of seeding it again",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--locust",
        action="store_true",
        help="drive each level with Locust (bench/locustfile.py) instead of threads, "
        "e.g. --users 50,200,500",
    )
    add_student_arguments(parser)
    args = parser.parse_args(argv)
    plan = student_plan(args)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url (or $DATABASE_URL) must name a PostgreSQL database")
    if args.baselines < 1:
        parser.error("--baselines must be at least 1 (the submission page shows a baseline)")

    var = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = server_env(database_url=args.database_url, cache_url=args.cache_url, var=var)
    if plan.enabled:
        env.update(plan.scoring_env())
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from leaderboard.bench.leaderboard_page import challenge_remove, seed_edition
    from leaderboard.models import Challenge

    def out(line: str) -> None:
        print(line, flush=True)

    out(f"machine: {os.cpu_count()} cores; gunicorn {args.workers} workers, {SETTINGS}")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0)
    out(f"static files collected in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    if args.reuse and Challenge.objects.filter(slug=args.slug).exists():
        out(f"reusing the edition seeded before under {args.slug!r}")
    else:
        seed_edition(
            slug=args.slug,
            submissions=args.submissions,
            teams=args.teams,
            baselines=args.baselines,
            seed=args.seed,
        )
        out(
            f"seeded {args.submissions:,} scored submissions, {args.teams} teams "
            f"in {time.perf_counter() - started:.1f} s"
        )
    proc = None
    stack = contextlib.ExitStack()
    try:
        urls = page_urls(slug=args.slug)
        port = free_port()
        proc = start_gunicorn(env=env, port=port, workers=args.workers, log=var / "gunicorn.log")
        base = f"http://127.0.0.1:{port}"
        out(f"pages: {', '.join(f'{name} {path}' for name, path in urls.items())}")
        # One pass first: every worker's first request of each page pays for imports and caches.
        run_level(base=base, urls=urls, users=args.workers, duration=2, server_pid=proc.pid)
        side = None
        if plan.enabled:
            from .load_students import students_running

            accounts = max([plan.at_once] + [plan.students_at(users) for users in args.users])
            side = stack.enter_context(
                students_running(plan=plan, env=env, accounts=accounts, var=var, out=out)
            )
            side.at_once(base=base, out=out)
        if args.locust:
            from .locust_level import locust_levels

            locust_levels(
                args, base=base, urls=urls, server_pid=proc.pid, var=var, side=side, out=out
            )
            return 0
        levels = sorted(set(args.users) | {1})
        results = [
            run_level(base=base, urls=urls, users=1, duration=args.duration, server_pid=proc.pid)
        ]
        single = results[0]
        report(single, None, out)
        for users in levels[1:]:
            results.append(
                run_level(
                    base=base, urls=urls, users=users, duration=args.duration, server_pid=proc.pid
                )
            )
            report(results[-1], single, out)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "cores": os.cpu_count(),
                        "workers": args.workers,
                        "urls": urls,
                        "levels": [as_json(r) for r in results],
                    },
                    indent=2,
                )
            )
    finally:
        stack.close()  # the students' worker, queue and accounts
        if proc is not None:
            proc.terminate()
            proc.wait(60)
        if not args.keep:
            challenge_remove(slug=args.slug)
            out("seeded rows removed")
        shutil.rmtree(var, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
