"""Create a challenge from a labelled image set, with an edition for the current year."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from leaderboard import services
from leaderboard.management.importing import import_into_challenge
from leaderboard.management.spec_args import add_import_arguments, spec_from_options
from leaderboard.metrics import DEFAULT_METRIC, metric_get
from leaderboard.models import Metric, Precision
from leaderboard.services.challenges import challenge_metric_by_classes


class Command(BaseCommand):
    help = (
        "Create a challenge (slug, title), import its hidden test set from --source and open "
        "an edition for this year. Re-running keeps an existing challenge and edition."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--title", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--metric",
            choices=Metric.values,
            help=(
                "The metric that ranks its boards (default: top1 below 20 classes, top5 from "
                "20 up, once the test set's classes are known)."
            ),
        )
        parser.add_argument("--precision", choices=Precision.values, default=Precision.FP32)
        parser.add_argument("--year", type=int, help="Edition year (default: this year).")
        parser.add_argument("--daily-limit", type=int, default=5)
        parser.add_argument("--total-limit", type=int, default=100)
        parser.add_argument("--max-upload-mb", type=int, default=500)
        add_import_arguments(parser)

    def handle(self, *args, **options) -> None:
        challenge, created = services.challenge_get_or_create(
            slug=options["slug"],
            title=options["title"],
            description=options["description"],
            primary_metric=options["metric"] or DEFAULT_METRIC.key,
            precision=options["precision"],
        )
        self.stdout.write(f"{'created' if created else 'found'} challenge {challenge.slug}")
        spec = spec_from_options(options, current=challenge.input_spec)
        import_into_challenge(
            challenge=challenge, options=options, spec=spec, write=self.stdout.write
        )
        if created and not options["metric"]:
            challenge_metric_by_classes(challenge=challenge)
            self.stdout.write(
                f"ranked by {metric_get(challenge.primary_metric).label.lower()} "
                f"({challenge.num_classes} classes)"
            )
        year = options["year"] or timezone.now().year
        edition, created = services.edition_get_or_create(
            challenge=challenge,
            year=year,
            daily_limit=options["daily_limit"],
            total_limit=options["total_limit"],
            public_fraction=options["public_fraction"],
            max_upload_mb=options["max_upload_mb"],
        )
        self.stdout.write(f"{'created' if created else 'found'} edition {edition}")
        self.stdout.write(self.style.SUCCESS(f"{challenge.get_absolute_url()}"))
