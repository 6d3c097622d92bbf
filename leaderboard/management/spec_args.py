"""Command-line options shared by the commands that import a hidden test set."""

from __future__ import annotations

import argparse
from pathlib import Path

from django.core.management.base import CommandError

from leaderboard.evaluation.datasets import FORMATS, InputSpec


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", dest="fmt", required=True, choices=FORMATS)
    parser.add_argument("--source", type=Path, required=True, help="File or directory to import.")
    parser.add_argument("--channels", type=int, choices=(1, 3))
    parser.add_argument("--height", type=int)
    parser.add_argument("--width", type=int)
    parser.add_argument("--mean", type=float, nargs="+", help="Per channel, 0..1 scale.")
    parser.add_argument("--std", type=float, nargs="+", help="Per channel, 0..1 scale.")
    parser.add_argument("--resize-short", type=int, help="Resize the short side, then crop.")
    parser.add_argument("--public-fraction", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0, help="Seed of the public/private split.")
    parser.add_argument("--class-names", type=Path, help="Text file, one class name per line.")
    parser.add_argument("--skip-bad", action="store_true", help="Skip images that fail to decode.")
    parser.add_argument("--limit", type=int, help="Import only the first N images.")
    parser.add_argument(
        "--samples-per-class",
        type=int,
        default=1,
        help="Training images shown per class (0: none).",
    )


def spec_from_options(options: dict, *, current: dict | None = None) -> InputSpec:
    """The input spec from --channels/--height/--width..., else the challenge's current one."""
    given = {key: options.get(key) for key in ("channels", "height", "width")}
    if all(value is None for value in given.values()) and current:
        return InputSpec.from_dict(current)
    if any(value is None for value in given.values()):
        raise CommandError("give --channels, --height and --width (the models' input size)")
    try:
        return InputSpec(
            channels=given["channels"],
            height=given["height"],
            width=given["width"],
            mean=tuple(options.get("mean") or ()),
            std=tuple(options.get("std") or ()),
            resize_short=options.get("resize_short"),
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
