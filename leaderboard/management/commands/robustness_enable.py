"""Turn a challenge's robustness track on (or off): compile the transformed copies of its hidden
set once, render the sample strip, and score every new submission on them too."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from leaderboard.models import Challenge
from leaderboard.services.robustness import (
    challenge_robustness_disable,
    challenge_robustness_enable,
)


class Command(BaseCommand):
    help = (
        "Enable the robustness track of a challenge: compile the rotated, scaled, relit, "
        "blurred, noisy and flipped copies of its hidden set (kept when already current) and "
        "render one public sample under each transform. --disable turns it off again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("challenge", help="Slug of the challenge.")
        parser.add_argument("--disable", action="store_true", help="Turn the track off.")

    def handle(self, *args, **options) -> None:
        challenge = Challenge.objects.filter(slug=options["challenge"]).first()
        if challenge is None:
            raise CommandError(f"no challenge with slug {options['challenge']!r}")
        if options["disable"]:
            challenge_robustness_disable(challenge=challenge)
            self.stdout.write(self.style.SUCCESS(f"{challenge.slug}: robustness track off"))
            return
        try:
            setup = challenge_robustness_enable(
                challenge=challenge, progress=options["verbosity"] > 1
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        sample = "a sample strip" if setup.samples else "no sample image (none stored)"
        self.stdout.write(
            self.style.SUCCESS(
                f"{challenge.slug}: robustness track on, {len(setup.names)} transformed copies "
                f"(fingerprint {setup.fingerprint[:16]}) and {sample} in {setup.seconds:.1f} s"
            )
        )
