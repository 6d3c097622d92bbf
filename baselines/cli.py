"""Command line: train one baseline on a data set's files, without the site.

    python -m baselines train --data-format idx --data-source DIR --model NAME [--size H W]
    python -m baselines ship --data-format idx --data-source DIR --model NAME [--test-source DIR]
    python -m baselines list
    python -m baselines shipped        # the README's table of the shipped weights, from records

Nothing but files is written: the safetensors and ONNX exports (``ship``: the network's file
and record under baselines/weights/, trained or reused from the cache first). Training for a
challenge and entering the result on its board is the site's job: ``python manage.py seed_baselines
--challenge SLUG --model NAME`` (this package knows nothing of the site).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from baselines import catalogue
from baselines.recipes import Recipe
from baselines.shipped import WEIGHTS_DIR

DEFAULT_CACHE = Path("var") / "baselines"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        for b in catalogue.CATALOGUE:
            print(f"{b.arch:24} {b.year}  {catalogue.speed_label(b):4}  {b.method_name}")
        return 0
    if args.command == "shipped":
        from baselines.shipped import available
        from baselines.shipped_table import shipped_markdown

        print("\n".join(shipped_markdown(available(weights_dir=args.weights_dir))))
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
    if not (args.data_format and args.data_source):
        print(
            "give --data-format and --data-source; to train for a challenge and enter the "
            "result on its board: python manage.py seed_baselines --challenge SLUG --model NAME",
            file=sys.stderr,
        )
        return 2
    return _train_on_files(args, baseline, recipe)


def _train_on_files(args: argparse.Namespace, baseline: catalogue.Baseline, recipe: Recipe) -> int:
    """Train (or reuse) ``baseline`` on the files; ``ship`` then writes its shipped file."""
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
    if args.command == "ship":
        from baselines.ship import ship

        test = None
        if args.test_source:
            test = (args.test_format or args.data_format, args.test_source)
        record = ship(
            trained=trained,
            data=data,
            test_source=test,
            test_class_names=args.test_class_names,
            weights_dir=args.weights_dir,
            first_epoch_digest=args.first_epoch_digest,
        )
        keep = ("file", "sha256", "bytes", "dtype", "validation", "test")
        print(json.dumps({k: record[k] for k in keep}, indent=2))
        return 0
    print(json.dumps(_summary(trained), indent=2))
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
    table = commands.add_parser("shipped", help="the README's table of the shipped weights")
    table.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR)
    train = commands.add_parser("train", help="train one network (or reuse its cached weights)")
    ship = commands.add_parser(
        "ship", help="train (or reuse), then write baselines/weights/<arch>.safetensors and .json"
    )
    _train_arguments(train)
    _train_arguments(ship)
    ship.add_argument("--test-source", type=Path, help="the hidden test set's files (recorded)")
    ship.add_argument("--test-format", choices=("idx", "npz", "cifar-bin"), help="default: data's")
    ship.add_argument(
        "--test-class-names", type=Path, help="one a line, as the site imports the test set"
    )
    ship.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR)
    ship.add_argument(
        "--first-epoch-digest",
        help="the state digest after epoch 1 if already computed (else trained again here)",
    )
    return parser


def _train_arguments(train: argparse.ArgumentParser) -> None:
    train.add_argument("--model", required=True, help="e.g. lenet5, alexnet-small, resnet18")
    where = train.add_argument_group("data: the training split's files")
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
    run.add_argument("--quiet", action="store_true", help="no progress bars")
