"""Upload-to-running latency with an idle worker, through the configured database and broker."""

from __future__ import annotations

import statistics

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from kombu.utils.url import maybe_sanitize_url

from leaderboard.bench.dispatch import measure


class Command(BaseCommand):
    help = (
        "Start a Celery worker, upload a tiny model through the submit view --uploads times "
        "(each after the previous one finished) and print the time from the request to the "
        "worker's start (median and max). Everything it creates is removed afterwards."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--uploads", type=int, default=10)

    def handle(self, *args, **options) -> None:
        out = self.stdout.write
        out(
            f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
            f"broker: {maybe_sanitize_url(settings.CELERY_BROKER_URL)}"
        )
        timing = measure(uploads=options["uploads"], say=out)
        ms = [s * 1000 for s in timing.to_running_s]
        out(
            f"upload -> running: median {statistics.median(ms):.0f} ms, "
            f"min {min(ms):.0f} ms, max {max(ms):.0f} ms over {len(ms)} uploads"
        )
        request_ms = statistics.median(timing.request_s) * 1000
        finished_ms = statistics.median(timing.to_finished_s) * 1000
        out(f"  the upload request itself: median {request_ms:.0f} ms")
        out(f"  upload -> scored (tiny model, sandboxed): median {finished_ms:.0f} ms")
