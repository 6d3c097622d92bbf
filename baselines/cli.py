"""Command line: train one baseline for a challenge (and submit it), or on a data set alone.

    python -m baselines train --challenge SLUG --model NAME [--epochs N] [--device cpu|cuda]
    python -m baselines train --data-format idx --data-source DIR --model NAME [--size H W]
    python -m baselines list

With ``--challenge`` the site's database gives the training data, the input spec and the
edition, and the result is submitted as a baseline entry (Django is set up only then). With
``--data-format/--data-source`` nothing but files is written: the safetensors and ONNX exports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from baselines import catalogue
from baselines.recipes import Recipe

DEFAULT_CACHE = Path("var") / "baselines"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        for b in catalogue.CATALOGUE:
            print(f"{b.arch:24} {b.year}  {catalogue.speed_label(b):4}  {b.method_name}")
        return 0
    try:
        baseline = catalogue.get(args.model)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    recipe = baseline.recipe.with_overrides(
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        seed=args.seed,
        train_limit=args.train_limit,
        hflip=args.hflip,
    )
    if args.challenge:
        return _train_for_challenge(args, baseline, recipe)
    if not (args.data_format and args.data_source):
        print("give --challenge SLUG, or --data-format and --data-source", file=sys.stderr)
        return 2
    return _train_on_files(args, baseline, recipe)


def _train_on_files(args: argparse.Namespace, baseline: catalogue.Baseline, recipe: Recipe) -> int:
    from baselines.data import prepare, read_split, spec_from_images
    from baselines.pipeline import train_or_reuse
    from evaluator.spec import InputSpec

    resize = None
    if args.size:  # the evaluator's own resize and crop; normalisation is applied later
        channels = args.channels or 1
        resize = InputSpec(channels=channels, height=args.size[0], width=args.size[1])
    images, labels = read_split(fmt=args.data_format, source=args.data_source, spec=resize)
    spec = spec_from_images(images, mean=tuple(args.mean or ()), std=tuple(args.std or ()))
    data = prepare(
        images=images,
        labels=labels,
        spec=spec,
        num_classes=args.num_classes,
        val_size=recipe.val_size,
        seed=recipe.seed,
        train_limit=recipe.train_limit,
    )
    trained = train_or_reuse(
        baseline=baseline,
        recipe=recipe,
        data=data,
        cache_root=args.cache_dir or DEFAULT_CACHE,
        device=args.device,
        progress=not args.quiet,
        stop_after=args.stop_after,
    )
    if trained is None:
        return 3
    print(json.dumps(_summary(trained), indent=2))
    return 0


def _train_for_challenge(
    args: argparse.Namespace, baseline: catalogue.Baseline, recipe: Recipe
) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings.local")
    import django

    django.setup()
    from leaderboard.models import Challenge
    from leaderboard.services import baselines as service

    challenge = Challenge.objects.filter(slug=args.challenge).first()
    if challenge is None:
        print(f"no challenge {args.challenge!r}", file=sys.stderr)
        return 2
    editions = challenge.editions.order_by("-year", "-opens_at")
    edition = editions.filter(slug=args.edition).first() if args.edition else editions.first()
    if edition is None:
        print(f"{challenge.slug} has no edition {args.edition or ''}".strip(), file=sys.stderr)
        return 2
    try:
        split = service.baseline_training_split(challenge=challenge)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    outcome = service.baseline_seed(
        edition=edition,
        baseline=baseline,
        split=split,
        recipe=recipe,
        cache_root=args.cache_dir,
        device=args.device,
        submit_format=args.submit_format,
        progress=not args.quiet,
        stop_after=args.stop_after,
    )
    if outcome.submission is None:
        return 3
    summary = _summary(outcome.trained) if outcome.trained else {"arch": baseline.arch}
    summary |= {"submission": str(outcome.submission.pk), "created": outcome.created}
    print(json.dumps(summary, indent=2))
    return 0


def _summary(trained) -> dict:
    keep = ("arch", "year", "params", "val_accuracy", "train_seconds", "device", "key")
    return {
        **{k: trained.meta.get(k) for k in keep},
        "onnx": str(trained.onnx),
        "safetensors": str(trained.safetensors),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m baselines", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the networks, their years and which are fast")
    train = commands.add_parser("train", help="train one network (or reuse its cached weights)")
    train.add_argument("--model", required=True, help="e.g. lenet5, alexnet-small, resnet18")
    where = train.add_argument_group("data: a challenge, or files")
    where.add_argument("--challenge", help="challenge slug (needs the site's database)")
    where.add_argument("--edition", help="edition slug to submit to (default: the latest)")
    where.add_argument("--data-format", choices=("idx", "npz", "cifar-bin"))
    where.add_argument("--data-source", type=Path, help="directory or file of the training split")
    where.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), help="resize to H W")
    where.add_argument("--channels", type=int, choices=(1, 3), help="with --size (default 1)")
    where.add_argument("--mean", type=float, nargs="+", help="per channel, 0..1 scale")
    where.add_argument("--std", type=float, nargs="+", help="per channel, 0..1 scale")
    where.add_argument("--num-classes", type=int, help="default: largest label + 1")
    recipe = train.add_argument_group("recipe overrides (each gives a new cache entry)")
    recipe.add_argument("--epochs", type=int)
    recipe.add_argument("--lr", type=float)
    recipe.add_argument("--batch-size", type=int)
    recipe.add_argument("--seed", type=int)
    recipe.add_argument("--train-limit", type=int, help="use only N training images")
    recipe.add_argument("--hflip", action="store_true", default=None, help="mirror images")
    run = train.add_argument_group("run")
    run.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    run.add_argument("--cache-dir", type=Path, help="default: var/baselines")
    run.add_argument("--stop-after", type=int, help="leave after N epochs (resume later)")
    run.add_argument("--submit-format", choices=("onnx", "safetensors"), default="onnx")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser
