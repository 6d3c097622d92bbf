"""Container health checks: `healthcheck.py` (web), `healthcheck.py worker`, `healthcheck.py beat`.

web: GET /healthz (the database answers) with a Host the site accepts, marked as HTTPS by the
proxy header production trusts, so neither ALLOWED_HOSTS nor the HTTPS redirect refuses it.
worker: Celery's ping through the broker to this container's node (WORKER_NAME).
beat: its pid file names a live process.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from pathlib import Path


def web() -> int:
    host = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    conn = http.client.HTTPConnection("127.0.0.1", int(os.environ.get("PORT", "8000")), timeout=5)
    conn.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
    return 0 if conn.getresponse().status == 200 else 1


def worker() -> int:
    name = os.environ.get("WORKER_NAME", "worker@%h").replace("%h", os.uname().nodename)
    done = subprocess.run(
        ["celery", "-A", "leaderboard", "inspect", "ping", "-d", name, "--timeout", "10"],
        cwd="/app",
        capture_output=True,
        timeout=25,
        check=False,
    )
    return done.returncode


def beat() -> int:
    pid_file = Path(os.environ.get("LEADERBOARD_VAR_DIR", "/srv/var")) / "celery" / "beat.pid"
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (OSError, ValueError):
        return 1
    return 0


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else "web"
    try:
        sys.exit({"web": web, "worker": worker, "beat": beat}[role]())
    except Exception as exc:  # any failure is "unhealthy", with the reason in docker inspect
        print(f"unhealthy: {exc}", file=sys.stderr)
        sys.exit(1)
