"""Enter the baseline networks in a challenge's edition: trained here, or reused from ./var.

By default the fast networks (MLP, LeNet-5, a quarter-width AlexNet: a few minutes on a 2-core
CPU for Fashion-MNIST); ``--all`` adds the deep ones (VGG, GoogLeNet, ResNet, SE-ResNet: use a
GPU). Running it again changes nothing: entries are keyed by edition, architecture and recipe.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from django.core.management.base import BaseCommand, CommandError

from baselines import catalogue
from leaderboard.models import Challenge, Edition
from leaderboard.services import baselines as service


class Command(BaseCommand):
    help = "Train (or reuse) the baseline networks and submit them to a challenge's edition."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--challenge", action="append", help="Slug (repeatable); default: all")
        parser.add_argument("--edition", help="Edition slug (default: the latest)")
        parser.add_argument("--all", action="store_true", help="Add the deep networks too.")
        parser.add_argument(
            "--model", action="append", help="Only these (e.g. lenet5; repeatable)."
        )
        parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
        parser.add_argument("--epochs", type=int, help="Override every recipe's epoch count.")
        parser.add_argument("--cache-dir", type=Path, help="Default: VAR_DIR/baselines.")
        parser.add_argument("--submit-format", choices=service.SUBMIT_FORMATS, default="onnx")

    def handle(self, *args, **options) -> None:
        baselines = self._pick(options)
        challenges = Challenge.objects.order_by("slug")
        if options["challenge"]:
            challenges = challenges.filter(slug__in=options["challenge"])
            missing = set(options["challenge"]) - {c.slug for c in challenges}
            if missing:
                raise CommandError(f"no challenge {', '.join(sorted(missing))}")
        started = time.perf_counter()
        for challenge in challenges:
            self._seed(challenge, baselines, options)
        self.stdout.write(f"done in {time.perf_counter() - started:.0f} s")

    def _pick(self, options: dict) -> list[catalogue.Baseline]:
        try:
            if options["model"]:
                return [catalogue.get(name) for name in options["model"]]
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None
        return list(catalogue.CATALOGUE) if options["all"] else catalogue.fast()

    def _seed(self, challenge: Challenge, baselines: list, options: dict) -> None:
        edition = self._edition(challenge, options["edition"])
        if edition is None:
            return
        try:
            split = service.baseline_training_split(challenge=challenge)
        except ValueError as exc:
            self.stdout.write(f"{challenge.slug}: skipped, {exc}")
            return
        self.stdout.write(f"{challenge.slug}: {len(split.labels):,} training images -> {edition}")
        for baseline in baselines:
            recipe = baseline.recipe.with_overrides(epochs=options["epochs"])
            service.baseline_seed(
                edition=edition,
                baseline=baseline,
                split=split,
                recipe=recipe,
                cache_root=options["cache_dir"],
                device=options["device"],
                submit_format=options["submit_format"],
                progress=options["verbosity"] > 0,
                log=self.stdout.write,
            )

    def _edition(self, challenge: Challenge, slug: str | None) -> Edition | None:
        editions = challenge.editions.order_by("-year", "-opens_at")
        edition = editions.filter(slug=slug).first() if slug else editions.first()
        if edition is None:
            if slug:
                raise CommandError(f"{challenge.slug} has no edition {slug!r}")
            self.stdout.write(f"{challenge.slug}: skipped, no edition")
        return edition
