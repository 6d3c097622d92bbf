"""Drain N queued submissions with 1, 2, 4... worker processes; print rates and scaling."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from kombu.utils.url import maybe_sanitize_url

from leaderboard.evaluation.warm import SIZE_SETTING as WARM_SETTING
from leaderboard.fleet.device import device_facts
from leaderboard.fleet.drain import cores, drain, worker_env_from


class Command(BaseCommand):
    help = (
        "Queue --submissions submissions of a tiny ONNX model (real sandboxed scoring on a "
        "64-image set), drain them with each of --workers worker processes, and print "
        "submissions per minute and the scaling against the first count; with --warm 0 1, once "
        "with every model started cold and once with warm sandboxes (SCORING_WARM_SANDBOXES), "
        "side by side. Needs the configured database and a Redis broker; everything it "
        "creates is removed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--submissions", type=int, default=1000)
        parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
        parser.add_argument("--timeout", type=float, default=6 * 3600, help="seconds per count")
        parser.add_argument(
            "--warm",
            type=int,
            nargs="+",
            default=None,
            help="warm sandboxes per worker process to compare (0: every model cold); "
            "default: the workers' own setting",
        )

    def handle(self, *args, **options) -> None:
        if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            raise CommandError("bench_drain needs a Redis broker: set CELERY_BROKER_URL")
        # Ctrl-C or a TERM still stops the workers and removes what the run created (a shell's
        # background job starts with SIGINT ignored, hence both handlers set here).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        out = self.stdout.write
        out(
            f"machine: {device_facts(device='cpu').name}, {cores()} cores usable, "
            f"Python {platform.python_version()}"
        )
        out(
            f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
            f"broker: {maybe_sanitize_url(settings.CELERY_BROKER_URL)}"
        )
        logs = Path(tempfile.mkdtemp(prefix="bench-drain-"))
        env = worker_env_from(os.environ)
        warm_counts = options["warm"] or [None]
        results = []
        for warm in warm_counts:
            if warm is not None:
                env[WARM_SETTING] = str(warm)
                out(f"warm sandboxes per worker process: {warm}")
            runs = drain(
                submissions=options["submissions"],
                worker_counts=options["workers"],
                worker_env=env,
                logs=logs,
                timeout_s=options["timeout"],
                say=out,
            )
            results += [(warm, run) for run in runs]
        base = results[0][1]
        firsts = {run.workers: run for warm, run in results if warm == warm_counts[0]}
        out("")
        out(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        out(
            "| warm | workers | submissions | seconds | per minute | scaling | vs first warm | "
            "median scoring s |"
        )
        out("|---|---|---|---|---|---|---|---|")
        for warm, run in results:
            ratio, ideal = run.per_minute / base.per_minute, run.workers / base.workers
            first = firsts.get(run.workers)
            versus = f"{run.per_minute / first.per_minute:.2f}x" if first else "-"
            out(
                f"| {'setting' if warm is None else warm} | {run.workers} | {run.submissions} | "
                f"{run.seconds:.1f} | {run.per_minute:.1f} | {ratio:.2f}x (linear: {ideal:g}x) | "
                f"{versus} | {run.median_scoring_s:.2f} |"
            )
        runs = [run for _, run in results]
        if any(run.failed for run in runs):
            out(f"some scorings failed: worker logs kept in {logs}")
        else:
            shutil.rmtree(logs, ignore_errors=True)
