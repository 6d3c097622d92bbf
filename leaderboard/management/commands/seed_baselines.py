"""Enter the baseline networks in a challenge's edition: shipped weights, or trained here.

By default every network whose weights ship with the code (``baselines/weights``) is entered
as it is, without training, on a challenge whose hidden set they were tested on: seconds. A
network without shipped weights is named and left out. ``--retrain`` (with ``--model NAME`` for
one network) trains from the recipe instead, or reuses ./var's cache: the fast networks (MLP,
LeNet-5, a 1/8-width AlexNet) by default, ``--all`` adds the deep ones (use a GPU). A recipe
override (``--epochs`` ...) trains too. Running it again changes nothing: entries are keyed by
edition, architecture and recipe.

On a CPU the networks train side by side, one process per core (``--jobs``): each uses one
thread, which for these small networks is faster than one run spreading over every core. The
database is touched only by this process, which submits each network as soon as it is done.
While they train, the board shows which network is at which epoch, and the time left.
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

from baselines import catalogue, shipped
from baselines.pipeline import train_or_reuse_logging_to
from baselines.recipes import Recipe
from leaderboard.models import Challenge, Edition
from leaderboard.services import baselines as service
from leaderboard.services import edition_baselines as editions_service


class Command(BaseCommand):
    help = (
        "Enter the shipped baseline networks in a challenge's edition (no training), or train "
        "them from their recipes (--retrain), and submit them to be scored."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--challenge", action="append", help="Slug (repeatable); default: all")
        parser.add_argument("--edition", help="Edition slug (default: the latest)")
        parser.add_argument(
            "--retrain",
            action="store_true",
            help="Train from the recipe (or reuse VAR_DIR's cache) instead of entering the "
            "shipped weights; with --model, only those networks.",
        )
        parser.add_argument(
            "--all", action="store_true", help="With --retrain: the deep networks too."
        )
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
        keys = ("epochs", "lr", "batch_size", "seed", "train_limit", "hflip", "stop_after")
        # --retrain trains even where the edition holds the entry (it keeps that entry); an
        # override alone trains only what the edition lacks.
        options["train_again"] = options["retrain"]
        options["retrain"] = options["retrain"] or any(options.get(k) is not None for k in keys)
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
            self._spread(challenge)
        self.stdout.write(f"done in {time.perf_counter() - started:.0f} s")

    def _pick(self, options: dict) -> list[catalogue.Baseline]:
        try:
            if options["model"]:
                return [catalogue.get(name) for name in options["model"]]
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None
        if options["all"] or not options["retrain"]:
            return list(catalogue.CATALOGUE)
        return catalogue.fast()

    def _seed(self, challenge: Challenge, baselines: list, options: dict) -> None:
        edition = self._edition(challenge, options["edition"])
        if edition is None:
            return
        if not options["retrain"]:
            self._enter_shipped(challenge, edition, baselines)
            return
        try:
            self._train_and_enter(challenge, edition, baselines, options)
        finally:
            service.baseline_training_finished(edition=edition)  # the board's notice goes

    def _enter_shipped(self, challenge: Challenge, edition: Edition, baselines: list) -> None:
        """Submit each network's shipped file; name those without one (not trained here)."""
        missing, broken = [], []
        for baseline in baselines:
            weights = shipped.get(baseline.arch)
            if weights is None:
                missing.append(baseline.arch.removeprefix("baseline-"))
                continue
            why = service.baseline_shipped_mismatch(challenge=challenge, shipped=weights)
            if why:
                self.stdout.write(f"{baseline.arch}: shipped weights not entered: {why}")
                continue
            try:
                submission, created = service.baseline_shipped_enter(
                    edition=edition, shipped=weights
                )
            except shipped.ShippedWeightsError as exc:
                broken.append(str(exc))
                self.stdout.write(f"{baseline.arch}: {exc}")
                continue
            verb = "queued" if created else "kept"
            self.stdout.write(
                f"{baseline.arch}: {verb} submission {submission.pk} (shipped weights, "
                f"validation error {weights.val_error:.2%}) -> {edition}"
            )
        if missing:
            self.stdout.write(
                f"no shipped weights for {', '.join(missing)}: not trained here; "
                "`python manage.py seed_baselines --retrain --model NAME` trains one from its "
                "recipe"
            )
        if broken:
            raise CommandError(
                "shipped weights that do not match their record: " + "; ".join(broken)
            )

    def _train_and_enter(
        self, challenge: Challenge, edition: Edition, baselines: list, options: dict
    ) -> None:
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
                    on_epoch=service.baseline_training_started(edition=edition, baseline=baseline),
                    train_again=options["train_again"],
                )
                service.baseline_training_finished(edition=edition, arch=baseline.arch)
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
            if existing is not None and not options["train_again"]:
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
            progress = {
                baseline.arch: service.baseline_training_started(edition=edition, baseline=baseline)
                for baseline, _, _ in pending
            }
            running = set(futures)
            while running:
                done, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                while not log.empty():
                    item = log.get()
                    if isinstance(item, dict):  # an epoch count: the board's notice
                        progress[item["arch"]](item["done"], item["epochs"], item["seconds"])
                    else:
                        self.stdout.write(item)
                for future in done:
                    service.baseline_training_finished(edition=edition, arch=futures[future].arch)
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

    def _spread(self, challenge: Challenge) -> None:
        """The challenge's other open editions (a class made while these trained) get each
        baseline they lack: queued, or its score copied where it was scored on this set."""
        for edition, entered in editions_service.challenge_baselines_enter(
            challenge=challenge
        ).items():
            for row in entered:
                why = f": {row.reason}" if row.reason else ""
                self.stdout.write(
                    f"{row.method_name}: {row.outcome} on {edition.display_name}{why}"
                )

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
