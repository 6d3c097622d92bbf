"""Run the sweeper once: what Celery beat does every minute, for cron or by hand."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from leaderboard import services


class Command(BaseCommand):
    help = (
        "Re-enqueue submissions stuck queued or running past their deadline; fail exhausted ones "
        "and the model checks whose worker is gone; queue again notification mail that never "
        "reached the broker."
    )

    def handle(self, *args, **options) -> None:
        report = services.submission_sweep()
        self.stdout.write(json.dumps(report.as_dict()))
