"""Import a hidden test set into an existing challenge's data directory."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from leaderboard.management.importing import import_into_challenge
from leaderboard.management.spec_args import add_import_arguments, spec_from_options
from leaderboard.models import Challenge


class Command(BaseCommand):
    help = (
        "Compile a labelled image set (IDX, ImageFolder, CIFAR binary, npz) as the hidden test "
        "set of a challenge. Without --channels/--height/--width the challenge's spec is kept."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("challenge", help="Slug of the challenge.")
        add_import_arguments(parser)

    def handle(self, *args, **options) -> None:
        challenge = Challenge.objects.filter(slug=options["challenge"]).first()
        if challenge is None:
            raise CommandError(
                f"no challenge '{options['challenge']}'; create it with create_challenge"
            )
        spec = spec_from_options(options, current=challenge.input_spec)
        import_into_challenge(
            challenge=challenge, options=options, spec=spec, write=self.stdout.write
        )
        self.stdout.write(self.style.SUCCESS(f"{challenge.slug}: {challenge.dataset_path}"))
