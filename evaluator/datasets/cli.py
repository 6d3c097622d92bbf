"""``python -m evaluator import``: compile a labelled image set into a hidden test set."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evaluator.datasets.sources import FORMATS
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec


def add_import_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``import`` sub-command; its handler is ``run_import`` (also ``func``)."""
    parser = subparsers.add_parser(
        "import",
        help="compile a labelled image set into a hidden test set",
        description="Decode, resize and crop a labelled image set once, into the uint8 "
        "arrays that scoring reads (images and labels in separate directories).",
    )
    parser.add_argument("--format", dest="fmt", required=True, choices=FORMATS)
    parser.add_argument("--source", type=Path, required=True, help="file or directory to read")
    parser.add_argument("--out", type=Path, required=True, help="directory to create")
    parser.add_argument("--size", type=int, nargs=2, required=True, metavar=("H", "W"))
    parser.add_argument("--channels", type=int, required=True, choices=(1, 3))
    parser.add_argument(
        "--resize-short", type=int, help="resize the short side to N, then centre-crop H x W"
    )
    parser.add_argument("--mean", type=float, nargs="+", help="per channel, 0..1 scale")
    parser.add_argument("--std", type=float, nargs="+", help="per channel, 0..1 scale")
    parser.add_argument("--public-fraction", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0, help="seed of the public/private split")
    parser.add_argument("--class-names", type=Path, help="file with one class name per line")
    parser.add_argument("--cifar-classes", type=int, choices=(10, 100), help="CIFAR variant")
    parser.add_argument("--skip-bad", action="store_true", help="skip images that fail to decode")
    parser.add_argument(
        "--workers", type=int, help="threads (image files) or processes to use (default: all cores)"
    )
    parser.add_argument(
        "--exact",
        action="store_true",
        help="decode every JPEG at full size (no draft mode for large ones): format version 1",
    )
    parser.add_argument("--limit", type=int, help="import only the first N images")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing set")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run_import)
    return parser


def fail(args: argparse.Namespace, message: str, code: str) -> int:
    if args.json:
        print(json.dumps({"error": message, "code": code}))
    else:
        print(f"error: {message}", file=sys.stderr)
    return 2


def run_import(args: argparse.Namespace) -> int:
    """Run the import the parsed ``args`` describe; 0 on success, 2 on bad input."""
    from evaluator.datasets.importer import import_dataset  # torch: not for the parser alone

    try:
        spec = InputSpec(
            channels=args.channels,
            height=args.size[0],
            width=args.size[1],
            mean=tuple(args.mean or ()),
            std=tuple(args.std or ()),
            resize_short=args.resize_short,
        )
    except ValueError as exc:
        return fail(args, f"invalid input spec: {exc}", "invalid_arguments")
    try:
        report = import_dataset(
            fmt=args.fmt,
            source=args.source,
            out=args.out,
            spec=spec,
            public_fraction=args.public_fraction,
            seed=args.seed,
            class_names_file=args.class_names,
            skip_bad=args.skip_bad,
            workers=args.workers,
            jpeg_draft=not args.exact,
            progress=not args.no_progress,
            limit=args.limit,
            overwrite=args.overwrite,
            cifar_classes=args.cifar_classes,
        )
    except DatasetError as exc:
        return fail(args, exc.message, exc.code)
    print(json.dumps(report.to_dict()) if args.json else report.summary())
    return 0
