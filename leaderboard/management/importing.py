"""The import steps both import commands run: compile the hidden set, then pick samples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.core.management.base import CommandError

from leaderboard import services
from leaderboard.evaluation.datasets import DatasetError, InputSpec
from leaderboard.models import Challenge


def import_into_challenge(
    *, challenge: Challenge, options: dict, spec: InputSpec, write: Callable[[str], None]
) -> None:
    """Import ``--source`` as the hidden set; sample its training split if it has one."""
    source: Path = options["source"]
    try:
        report = services.challenge_import_dataset(
            challenge=challenge,
            fmt=options["fmt"],
            source=source,
            spec=spec,
            public_fraction=options["public_fraction"],
            seed=options["seed"],
            class_names_file=options.get("class_names"),
            skip_bad=options["skip_bad"],
            limit=options.get("limit"),
            progress=options.get("verbosity", 1) > 1,
            train_source=source if source.is_dir() else None,
        )
    except DatasetError as exc:
        raise CommandError(exc.message) from exc
    write(report.summary())
    per_class = options.get("samples_per_class", 1)
    if per_class and source.is_dir():
        try:
            samples = services.challenge_samples_from_training(
                challenge=challenge, fmt=options["fmt"], source=source, per_class=per_class
            )
        except DatasetError as exc:
            write(f"no sample images: {exc.message}")
        else:
            write(f"{len(samples)} sample images from the training split")
