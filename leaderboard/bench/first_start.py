"""Time ``make run``'s first start: from an empty var directory to every shipped baseline scored.

Starts ``python -m leaderboard.devserver`` (SQLite and the filesystem queue, as ``make run``
does) and polls its database each second; prints one line per milestone with the seconds since
start and the load average: the site up, each baseline's clean score (by name, so a slow
network shows), every one scored, and where the robustness track measures them after their
clean score, every robustness run finished. Then it stops the server, or with ``--keep`` leaves
it up until it is sent SIGTERM (to look at the page or run ``baselines_report`` against it).

    python -m leaderboard.bench.first_start --port 8050 [--var DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "baselines" / "weights"
GIVE_UP_S = 1500


def shipped_count() -> int:
    """How many networks ship weights (one record per file)."""
    return len(list(WEIGHTS.glob("*.safetensors")))


def baseline_counts(db: Path) -> dict[str, int]:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            rows = con.execute(
                "SELECT status, count(*) FROM leaderboard_submission WHERE is_baseline"
                " GROUP BY status"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return {}  # not migrated yet
    return dict(rows)


def scored_baselines(db: Path) -> list[str]:
    """The method names of the baselines scored so far, in the order they were."""
    return [name for name, _ in _read(db, _SCORED)]


def robustness_runs(db: Path) -> dict[str, str]:
    """Each baseline's robustness run by status ({} where the track keeps no such rows)."""
    return dict(_read(db, _ROBUST))


_SCORED = (
    "SELECT s.method_name, s.finished_at FROM leaderboard_submission s"
    " WHERE s.is_baseline AND s.status = 'scored' ORDER BY s.finished_at"
)
_ROBUST = (
    "SELECT s.method_name, r.status FROM leaderboard_robustnessrun r"
    " JOIN leaderboard_submission s ON s.id = r.submission_id WHERE s.is_baseline"
)


def _read(db: Path, sql: str) -> list[tuple]:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []  # not migrated yet, or no such table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument(
        "--var", type=Path, help="an empty directory (default: a new temporary one)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the site up once timed, until SIGTERM"
    )
    args = parser.parse_args(argv)
    var = args.var or Path(tempfile.mkdtemp(prefix="first-start-")) / "var"
    if var.exists() and any(var.iterdir()):
        parser.error(f"{var} is not empty: a first start needs a fresh var directory")
    expected = shipped_count()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["LEADERBOARD_VAR_DIR"] = str(var)
    log = var.parent / "devserver.log"
    started = time.monotonic()

    def say(what: str) -> None:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{time.monotonic() - started:7.1f} s  {what}  (load {load})", flush=True)

    argv_ = [sys.executable, "-m", "leaderboard.devserver", "--port", str(args.port)]
    with log.open("w") as out:
        proc = subprocess.Popen(argv_, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    say(f"started; {expected} shipped baselines expected; its output goes to {log}")
    up, seen, all_scored = False, [], False
    try:
        while time.monotonic() - started < GIVE_UP_S:
            time.sleep(1)
            if proc.poll() is not None:
                say(f"the dev server exited with {proc.returncode}")
                return 1
            if not up:
                try:
                    socket.create_connection(("127.0.0.1", args.port), timeout=1).close()
                    up = True
                    say("site up")
                except OSError:
                    pass
            db = var / "db.sqlite3"
            for name in scored_baselines(db)[len(seen) :]:
                seen.append(name)
                say(f"scored: {name}")
            if not all_scored and len(seen) >= expected:
                all_scored = True
                say(f"all {expected} shipped baselines scored")
            runs = robustness_runs(db)
            if all_scored and all(status in ("done", "failed") for status in runs.values()):
                if runs:
                    say(f"robustness runs finished: {_counts(runs)}")
                break
        else:
            say(f"gave up: baselines by status {baseline_counts(var / 'db.sqlite3')}")
            return 1
        if args.keep:
            say(f"kept up on port {args.port} until SIGTERM (var: {var})")
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                signal.pause()
        return 0
    finally:
        proc.terminate()
        proc.wait(60)


def _counts(runs: dict[str, str]) -> str:
    statuses = sorted(set(runs.values()))
    return ", ".join(f"{sum(1 for v in runs.values() if v == s)} {s}" for s in statuses)


if __name__ == "__main__":
    raise SystemExit(main())
