"""Count the charts' stored days again from the submissions, for every edition or one."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from leaderboard import services
from leaderboard.models import Edition


class Command(BaseCommand):
    help = (
        "Count each edition's submissions per day again (what its charts page reads) from the "
        "rows: after rows were written around the site, or to fill the days of editions "
        "created before they were stored. Pages read the rows meanwhile, exact but slower."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--edition", type=int, action="append", help="an edition's id")

    def handle(self, *args, **options) -> None:
        editions = Edition.objects.select_related("challenge").order_by("pk")
        if options["edition"]:
            editions = editions.filter(pk__in=options["edition"])
            missing = set(options["edition"]) - {e.pk for e in editions}
            if missing:
                raise CommandError(f"no edition with id {', '.join(map(str, sorted(missing)))}")
        for edition in editions:
            days = services.activity_rebuild(edition=edition)
            self.stdout.write(f"{edition} (id {edition.pk}): {days} day{'s' * (days != 1)}")
