"""Leaderboard and charts page latency over one edition seeded with many scored submissions."""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from leaderboard.bench.leaderboard_page import (
    DEFAULT_PAGES,
    PAGES,
    challenge_remove,
    seed_edition,
    seeded_edition,
    time_page,
)
from leaderboard.bench.stats import format_summary


class Command(BaseCommand):
    help = (
        "Seed an edition with --submissions scored entries across --teams teams, then time its "
        "leaderboard page and its charts page, or its challenge page (--pages; Django test "
        "client) and print p50/p95/max and the queries of one request. "
        "Writes to the configured database: point DATABASE_URL at a scratch one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--submissions", type=int, default=100_000)
        parser.add_argument("--teams", type=int, default=700)
        parser.add_argument("--baselines", type=int, default=8)
        parser.add_argument("--requests", type=int, default=100)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--slug", default="bench-leaderboard")
        parser.add_argument("--keep", action="store_true", help="leave the seeded rows in place")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="time the edition a run with --keep seeded under --slug, instead of seeding "
            "(implies --keep; --submissions and --teams are then only what it prints)",
        )
        parser.add_argument(
            "--pages",
            nargs="+",
            choices=PAGES,
            default=list(DEFAULT_PAGES),
            help="which of the edition's pages to time (default: leaderboard and charts; "
            "challenge: its challenge page, the year-by-year history)",
        )

    def handle(self, *args, **options) -> None:
        out = self.stdout.write
        database = connection.settings_dict["NAME"]
        out(f"database: {connection.vendor} {database}, DEBUG={settings.DEBUG}")
        started = time.perf_counter()
        edition = seeded_edition(slug=options["slug"]) if options["reuse"] else None
        if options["reuse"]:
            if edition is None:
                raise CommandError(f"nothing seeded under {options['slug']!r}: run with --keep")
            options["keep"] = True
            out(f"reusing the edition seeded under {options['slug']!r} ({edition})")
        else:
            edition = seed_edition(
                slug=options["slug"],
                submissions=options["submissions"],
                teams=options["teams"],
                baselines=options["baselines"],
                seed=options["seed"],
            )
            out(
                f"seeded {options['submissions']:,} scored submissions, {options['teams']} "
                f"teams in {time.perf_counter() - started:.1f} s"
            )
        out(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        try:
            for page in options["pages"]:
                timing = time_page(edition=edition, requests=options["requests"], page=page)
                out(f"{page} page {timing.url}: {timing.shown}, {len(timing.queries)} queries")
                out(f"  page (request to response): {format_summary(timing.page)}")
                out(f"  its selectors alone:        {format_summary(timing.selector)}")
                out("  the queries of one request:")
                for seconds, sql in timing.queries:
                    out(f"    {seconds * 1000:7.1f} ms  {sql}")
        finally:
            if not options["keep"]:
                challenge_remove(slug=options["slug"])
                out("seeded rows removed")
