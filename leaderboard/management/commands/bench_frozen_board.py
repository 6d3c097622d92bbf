"""The leaderboard's selector live and frozen, over one edition seeded with many entries."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from leaderboard.bench.frozen_board import (
    bench_remove,
    scores_recorded_after_submission,
    supersede,
    time_board,
)
from leaderboard.bench.leaderboard_page import seed_edition
from leaderboard.bench.stats import format_summary


class Command(BaseCommand):
    help = (
        "Seed an edition (--submissions over --teams, submitted over 60 days), re-run --reruns "
        "entries, then time the first page of its board live and frozen --frozen-days-ago days "
        "ago. Writes to the configured database: point DATABASE_URL at a scratch one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--submissions", type=int, default=100_000)
        parser.add_argument("--teams", type=int, default=700)
        parser.add_argument("--reruns", type=int, default=1_000)
        parser.add_argument("--frozen-days-ago", type=float, default=7.0)
        parser.add_argument("--requests", type=int, default=30)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--slug", default="bench-frozen-board")

    def handle(self, *args, **options) -> None:
        out = self.stdout.write
        out(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        bench_remove(slug=options["slug"])
        edition = seed_edition(
            slug=options["slug"],
            submissions=options["submissions"],
            teams=options["teams"],
            baselines=8,
            seed=options["seed"],
        )
        try:
            scores_recorded_after_submission(edition=edition)
            rerun = supersede(edition=edition, count=options["reruns"], seed=options["seed"])
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE leaderboard_score; ANALYZE leaderboard_supersededscore")
            now = timezone.now()
            live, live_rows = time_board(edition=edition, requests=options["requests"], now=now)
            edition.board_frozen_at = now - dt.timedelta(days=options["frozen_days_ago"])
            edition.save(update_fields=["board_frozen_at"])
            frozen, frozen_rows = time_board(edition=edition, requests=options["requests"], now=now)
            out(f"{options['submissions']:,} submissions, {options['teams']} teams, {rerun} re-run")
            out(f"live board ({live_rows} rows):   {format_summary(live)}")
            out(
                f"frozen {options['frozen_days_ago']:g} days ago ({frozen_rows} rows): "
                f"{format_summary(frozen)}"
            )
        finally:
            bench_remove(slug=options["slug"])
            out("seeded rows removed")
