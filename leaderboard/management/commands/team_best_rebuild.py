"""Store again each team's best public entry (what the boards read) from the score table."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from leaderboard.models import Edition
from leaderboard.selectors.team_best import team_best_install, team_best_rebuild


class Command(BaseCommand):
    help = (
        "Store again each team's best public entry per metric (selectors.team_best) from the "
        "scores, for every edition or the ones named; with --install, also install the "
        "function and triggers that keep them (migrate does so after every run). PostgreSQL "
        "only: a SQLite site ranks live."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--edition", type=int, action="append", help="an edition's id")
        parser.add_argument(
            "--install", action="store_true", help="reinstall the triggers, then rebuild all"
        )

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("the per-team bests are stored on PostgreSQL only")
        if options["install"]:
            team_best_install(force=True)
        editions = options["edition"]
        if editions:
            found = set(Edition.objects.filter(pk__in=editions).values_list("pk", flat=True))
            missing = set(editions) - found
            if missing:
                raise CommandError(f"no edition with id {', '.join(map(str, sorted(missing)))}")
        rows = team_best_rebuild(edition_ids=editions or None)
        where = (
            f"edition{'s' * (len(editions) != 1)} {', '.join(map(str, editions))}"
            if editions
            else "every edition"
        )
        self.stdout.write(f"{rows} best entr{'y' if rows == 1 else 'ies'} stored ({where})")
