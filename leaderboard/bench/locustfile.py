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

This file imports nothing of the site (Locust patches the standard library with gevent when it
starts): it only speaks HTTP.
"""

from __future__ import annotations

import itertools
import json
import os

from locust import HttpUser, constant, task

# Behind the production proxy every request arrives as HTTPS (else: a redirect to https://).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
PAGES: list[tuple[str, str]] = list(json.loads(os.environ.get("BENCH_PAGES") or "{}").items())
_first = itertools.count()


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
