"""Enter the baseline networks in a challenge's edition: trained here, or reused from ./var.

By default the fast networks (MLP, LeNet-5, a quarter-width AlexNet: a few minutes on a 2-core
CPU for Fashion-MNIST); ``--all`` adds the deep ones (VGG, GoogLeNet, ResNet, SE-ResNet: use a
GPU). Running it again changes nothing: entries are keyed by edition, architecture and recipe.

On a CPU the networks train side by side, one process per core (``--jobs``): each uses one
thread, which for these small networks is faster than one run spreading over every core. The
database is touched only by this process, which submits each network as soon as it is done.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

import torch
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from baselines import catalogue
from baselines.pipeline import train_or_reuse_logging_to
from baselines.recipes import Recipe
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
        recipe = parser.add_argument_group("recipe overrides (each gives a new cache entry)")
        recipe.add_argument("--epochs", type=int, help="Override every recipe's epoch count.")
        recipe.add_argument("--lr", type=float)
        recipe.add_argument("--batch-size", type=int)
        recipe.add_argument("--seed", type=int)
        recipe.add_argument("--train-limit", type=int, help="Use only N training images.")
        recipe.add_argument("--hflip", action="store_true", default=None, help="Mirror images.")
        parser.add_argument(
            "--stop-after", type=int, help="Leave after N epochs (run again to resume)."
        )
        parser.add_argument("--cache-dir", type=Path, help="Default: VAR_DIR/baselines.")
        parser.add_argument("--submit-format", choices=service.SUBMIT_FORMATS, default="onnx")
        parser.add_argument(
            "--jobs",
            type=int,
            help="Networks trained at once (default: one per CPU core on a CPU, 1 on a GPU).",
        )

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
        jobs = options["jobs"] or (os.cpu_count() or 1 if options["device"] == "cpu" else 1)
        if jobs <= 1 or len(baselines) <= 1:
            for baseline in baselines:
                service.baseline_seed(
                    edition=edition,
                    baseline=baseline,
                    split=split,
                    recipe=_recipe(baseline, options),
                    cache_root=options["cache_dir"],
                    device=options["device"],
                    submit_format=options["submit_format"],
                    progress=options["verbosity"] > 0,
                    stop_after=options["stop_after"],
                    log=self.stdout.write,
                )
            return
        self._seed_in_parallel(edition, split, baselines, jobs, options)

    def _seed_in_parallel(
        self, edition: Edition, split, baselines: list, jobs: int, options: dict
    ) -> None:
        """Train the missing networks in ``jobs`` processes, the costliest first; submit each
        here as it finishes. A network that fails is named, and the others still go in."""
        pending = []
        for baseline in baselines:
            recipe = _recipe(baseline, options)
            data = split.prepared(recipe)
            existing = service.baseline_entry_existing(
                edition=edition, baseline=baseline, recipe=recipe, data=data
            )
            if existing is not None:
                self.stdout.write(
                    f"{baseline.arch}: {edition} already has this entry ({existing.pk})"
                )
                continue
            pending.append((baseline, recipe, data))
        if not pending:
            return
        # The catalogue runs from the cheapest network to the costliest: start from the end.
        order = {b.arch: i for i, b in enumerate(catalogue.CATALOGUE)}
        pending.sort(key=lambda item: -order.get(item[0].arch, 0))
        cache_root = Path(options["cache_dir"] or Path(settings.VAR_DIR) / "baselines")
        self.stdout.write(f"training {len(pending)} networks, {min(jobs, len(pending))} at a time")
        failed: list[str] = []
        # One line per bar on a terminal; through a pipe (make run) cursor moves are noise.
        terminal = sys.stdout.isatty()
        context = multiprocessing.get_context("spawn")  # no copy of this process's DB socket
        with (
            context.Manager() as manager,
            ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=context) as pool,
        ):
            # The workers' log lines, epochs included, written here as they come and in order:
            # "training on ..." before the epochs, not after them.
            log = manager.Queue()
            futures = {
                pool.submit(
                    train_or_reuse_logging_to,
                    log,
                    baseline=baseline,
                    recipe=recipe,
                    data=data,
                    cache_root=cache_root,
                    device=options["device"],
                    progress=options["verbosity"] > 0,
                    stop_after=options["stop_after"],
                    position=index if terminal else None,
                ): baseline
                for index, (baseline, recipe, data) in enumerate(pending)
            }
            running = set(futures)
            while running:
                done, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                while not log.empty():
                    self.stdout.write(log.get())
                for future in done:
                    self._enter(edition, futures[future], future, failed, options)
        if failed:
            raise CommandError("training failed for " + "; ".join(failed))

    def _enter(
        self, edition: Edition, baseline, future: Future, failed: list[str], options: dict
    ) -> None:
        """Submit a finished network to ``edition``; name one whose training failed."""
        try:
            trained = future.result()
        except Exception as exc:  # the process died or training raised: name it
            failed.append(f"{baseline.arch}: {type(exc).__name__}: {exc}")
            self.stdout.write(f"{baseline.arch}: training failed: {exc}")
            return
        if trained is None:
            return
        submission, created = service.baseline_entry_get_or_create(
            edition=edition, trained=trained, submit_format=options["submit_format"]
        )
        verb = "queued" if created else "kept"
        self.stdout.write(f"{baseline.arch}: {verb} submission {submission.pk}")

    def _edition(self, challenge: Challenge, slug: str | None) -> Edition | None:
        editions = challenge.editions.order_by("-year", "-opens_at")
        edition = editions.filter(slug=slug).first() if slug else editions.first()
        if edition is None:
            if slug:
                raise CommandError(f"{challenge.slug} has no edition {slug!r}")
            self.stdout.write(f"{challenge.slug}: skipped, no edition")
        return edition


def _recipe(baseline: catalogue.Baseline, options: dict) -> Recipe:
    """The network's recipe with the command line's overrides applied."""
    keys = ("epochs", "lr", "batch_size", "seed", "train_limit", "hflip")
    return baseline.recipe.with_overrides(**{key: options.get(key) for key in keys})
