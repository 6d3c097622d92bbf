"""Run the shard sweeper once: what Celery beat does every minute, for cron or by hand."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from leaderboard import sharding


class Command(BaseCommand):
    help = (
        "Re-send shards whose worker or message was lost, send merges that never came, and "
        "remove shard files of finished submissions."
    )

    def handle(self, *args, **options) -> None:
        report = sharding.shard_sweep()
        self.stdout.write(json.dumps(report.as_dict()))
