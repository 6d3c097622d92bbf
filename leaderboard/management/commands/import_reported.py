"""Attach reported (published) results from a CSV to a challenge: results measured on that
challenge's data set, each with its source. Two files ship in leaderboard/data/: the ILSVRC
2010-2017 classification winners (ImageNet) and the benchmark table published with
Fashion-MNIST. There is no default file: another set's numbers on a challenge's chart would
mislead."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from leaderboard import services
from leaderboard.models import Challenge
from leaderboard.services.references import FASHION_MNIST_REPORTED_CSV, ILSVRC_HISTORY_CSV


class Command(BaseCommand):
    help = "Import reported results (year, team, method, error, source) onto a challenge."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--challenge", required=True, help="The challenge's slug.")
        parser.add_argument(
            "--csv",
            type=Path,
            required=True,
            help=(
                "CSV file of results reported on the challenge's data set; shipped: "
                f"{ILSVRC_HISTORY_CSV} (ImageNet), {FASHION_MNIST_REPORTED_CSV} (Fashion-MNIST)."
            ),
        )
        parser.add_argument(
            "--replace", action="store_true", help="Remove the challenge's rows the file lacks."
        )

    def handle(self, *args, **options) -> None:
        challenge = Challenge.objects.filter(slug=options["challenge"]).first()
        if challenge is None:
            raise CommandError(f"no challenge with slug {options['challenge']!r}")
        path: Path = options["csv"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from exc
        try:
            outcome = services.reference_results_import(
                challenge=challenge, text=text, replace=options["replace"]
            )
        except services.ReferenceCSVError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{challenge.slug}: {outcome.created} reported result(s) added, "
                f"{outcome.updated} updated, {outcome.deleted} removed"
            )
        )
