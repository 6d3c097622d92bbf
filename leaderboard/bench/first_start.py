"""Time ``make run``'s first start: from an empty var directory to every shipped baseline scored.

Starts ``python -m leaderboard.devserver`` (SQLite and the filesystem queue, as ``make run``
does) and polls its database each second; prints one line per milestone with the seconds since
start and the load average, then stops the server.

    python -m leaderboard.bench.first_start --port 8050
"""

from __future__ import annotations

import argparse
import os
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument(
        "--var", type=Path, help="an empty directory (default: a new temporary one)"
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
    up = False
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
            counts = baseline_counts(var / "db.sqlite3")
            if counts.get("scored", 0) >= expected:
                say(f"all {expected} shipped baselines scored")
                return 0
        say(f"gave up: baselines by status {baseline_counts(var / 'db.sqlite3')}")
        return 1
    finally:
        proc.terminate()
        proc.wait(60)


if __name__ == "__main__":
    raise SystemExit(main())
