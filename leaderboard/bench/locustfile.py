"""Locust visitors for the site's public pages: the same mix as ``leaderboard.bench.load``.

Each user opens the pages of ``$BENCH_PAGES`` (a JSON object, page name -> path) one after the
other, starting at a different one, with no pause between them, as ``bench.load``'s threads do:
home, challenge, leaderboard, charts, robustness board, a baseline's page, the API's
leaderboard. Anything but a 2xx answer counts as a failure. ``python -m leaderboard.bench.load
--locust`` seeds the edition, starts gunicorn and runs this file headless at each number of
users; by hand, against a server that is already running:

    BENCH_PAGES='{"home": "/", "challenge": "/c/bench-load/"}' \\
        locust -f leaderboard/bench/locustfile.py --headless -u 200 -r 50 -t 60s \\
        --host http://127.0.0.1:8000

Students (``Student``, run only when ``$BENCH_STUDENTS`` names the JSON file that
``leaderboard.bench.students`` writes: the API's upload path and one token per student) do
what the command line's ``submit --wait`` does: upload a tiny ONNX model through the API, then
poll its status at the CLI's intervals (1 s, growing by half up to 5 s) until it is scored or
failed, then think ``$BENCH_STUDENT_THINK_S`` seconds before the next upload. Each student has
an account of its own. ``$BENCH_STUDENT_USERS`` of the users are students (Locust's
``fixed_count``), the rest visitors; each upload taken is logged to ``$BENCH_UPLOAD_LOG`` (id,
wall-clock start, request seconds) for the upload-to-running figures.

This file imports nothing of the site (Locust patches the standard library with gevent when it
starts): it only speaks HTTP.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

from locust import HttpUser, constant, task

# Behind the production proxy every request arrives as HTTPS (else: a redirect to https://).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
PAGES: list[tuple[str, str]] = list(json.loads(os.environ.get("BENCH_PAGES") or "{}").items())
_first = itertools.count()
STUDENTS: dict = (
    json.loads(Path(os.environ["BENCH_STUDENTS"]).read_text())
    if os.environ.get("BENCH_STUDENTS")
    else {}
)
UPLOAD_LOG = os.environ.get("BENCH_UPLOAD_LOG", "")
THINK_S = float(os.environ.get("BENCH_STUDENT_THINK_S") or 30)
FINISHED = ("scored", "failed")
FIRST_POLL_S, MAX_POLL_S = 1.0, 5.0  # the CLI's (leaderboard/client/follow.py)
_student = itertools.count()


class Visitor(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        if not PAGES:
            raise RuntimeError('set BENCH_PAGES to the pages to open, e.g. {"home": "/"}')
        self.client.headers.update(PROXY_HEADERS)
        self.step = next(_first)  # users start on different pages

    @task
    def next_page(self) -> None:
        name, path = PAGES[self.step % len(PAGES)]
        self.step += 1
        with self.client.get(
            path, name=name, allow_redirects=False, timeout=60, catch_response=True
        ) as response:
            if not 200 <= response.status_code < 300:
                response.failure(f"HTTP {response.status_code}")


class Student(HttpUser):
    fixed_count = int(os.environ.get("BENCH_STUDENT_USERS") or 0)

    def wait_time(self) -> float:
        return self.pause

    def on_start(self) -> None:
        tokens = STUDENTS.get("tokens") or []
        index = next(_student)
        if index >= len(tokens):
            raise RuntimeError(
                f"student {index + 1} has no account: {len(tokens)} in BENCH_STUDENTS"
            )
        self.client.headers.update(PROXY_HEADERS | {"Authorization": f"Token {tokens[index]}"})
        self.model = bytes.fromhex(STUDENTS["model_hex"])
        self.index, self.uploads = index, 0
        self.pending: str | None = None
        self.pause = 0.0

    @task
    def next_step(self) -> None:
        if self.pending is None:
            self.upload()
        else:
            self.poll()

    def upload(self) -> None:
        self.uploads += 1
        sent_at = time.time()
        with self.client.post(
            STUDENTS["submit_path"],
            name="api_upload",
            files={"file": ("tiny.onnx", self.model, "application/octet-stream")},
            data={"method_name": f"student {self.index} upload {self.uploads}"},
            allow_redirects=False,
            timeout=60,
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                self.pause = THINK_S
                return
            self.pending = response.json()["id"]
            if UPLOAD_LOG:
                elapsed = time.time() - sent_at
                with open(UPLOAD_LOG, "a") as log:
                    log.write(f"{self.pending} {sent_at:.6f} {elapsed:.6f}\n")
        self.pause = FIRST_POLL_S

    def poll(self) -> None:
        with self.client.get(
            f"/api/submissions/{self.pending}/",
            name="api_status",
            allow_redirects=False,
            timeout=60,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            if response.json()["status"] in FINISHED:
                self.pending, self.pause = None, THINK_S
            else:
                self.pause = min(self.pause * 1.5, MAX_POLL_S)
