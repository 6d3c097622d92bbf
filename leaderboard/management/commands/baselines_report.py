"""Print an edition's baselines as measured, as the README's Markdown: the table of every
catalogued network (measured ones with their errors, parameters and the scoring run's images
per second; the others saying why they have none), whether deeper did better, and the errors
under each transform of the robustness track. Standard output is exactly the README's text;
which edition it read goes to standard error."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from leaderboard.evaluation.robustness import TRANSFORM_NAMES
from leaderboard.models import Challenge
from leaderboard.selectors.baseline_report import edition_baseline_report
from leaderboard.selectors.baseline_zoo import SCORED, Zoo, ZooRow, baseline_zoo

# Short column heads for the robustness table, in the catalogue's order.
_SHORT = {
    "rotate_15": "rot 15°",
    "rotate_45": "rot 45°",
    "rotate_90": "rot 90°",
    "scale_half": "scale x0.5",
    "scale_double": "scale x2",
    "brighter": "bright",
    "darker": "dark",
    "low_contrast": "contrast",
    "blur_1": "blur 1",
    "blur_2": "blur 2",
    "noise_low": "noise lo",
    "noise_high": "noise hi",
    "hflip": "flip (ctrl)",
}


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}%"


class Command(BaseCommand):
    help = (
        "Print the baselines of a challenge's edition as the README's Markdown: every catalogued "
        "network by paper year with its top-1/top-5 and robust error over the whole hidden set, "
        "parameters, the scoring run's images/s and its training (or why it has none), whether "
        "deeper did better, then the top-1 error under each transform of the robustness track."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("challenge", help="Slug of the challenge.")
        parser.add_argument("--edition", help="Edition slug (default: the latest).")
        parser.add_argument("--cache-dir", type=Path, help="Default: VAR_DIR/baselines.")

    def handle(self, *args, **options) -> None:
        challenge = Challenge.objects.filter(slug=options["challenge"]).first()
        if challenge is None:
            raise CommandError(f"no challenge with slug {options['challenge']!r}")
        editions = challenge.editions.order_by("-year", "-opens_at")
        slug = options["edition"]
        edition = editions.filter(slug=slug).first() if slug else editions.first()
        if edition is None:
            raise CommandError(f"{challenge.slug} has no edition {slug or ''}".strip())
        cache_root = options["cache_dir"] or Path(settings.VAR_DIR) / "baselines"
        rows = edition_baseline_report(edition=edition, cache_root=cache_root)
        if not rows:
            raise CommandError(f"{edition} has no baseline entries: run seed_baselines first")
        zoo = baseline_zoo(
            rows=rows,
            dataset_fingerprint=challenge.dataset_fingerprint,
            metric=challenge.primary_metric,
            edition=edition,
        )
        self.stderr.write(f"{edition}: {len(rows)} baseline entries, {len(zoo.measured)} scored")
        out = self.stdout.write
        for line in zoo_markdown(zoo):
            out(line)


def zoo_markdown(zoo: Zoo) -> list[str]:
    """The README's lines: the networks' table, the depth verdicts, the robustness table."""
    lines = [
        "| network (paper year) | layers | top-1 error | top-5 error | robust error | parameters "
        "| images/s (scored here) | training |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_network_line(row) for row in zoo.rows]
    verdicts = [trend.sentence() for trend in (zoo.clean_trend, zoo.robust_trend) if trend.steps]
    if verdicts:
        lines += ["", *(f"- {sentence}" for sentence in verdicts)]
    robust = [row.entry for row in zoo.measured if row.entry.transforms]
    if not robust:
        return lines
    names = [n for n in TRANSFORM_NAMES if any(n in row.transforms for row in robust)]
    heads = " | ".join(_SHORT.get(n, n) for n in names)
    lines += [
        "",
        f"| network | clean top-1 | mean corruption error | increase | {heads} |",
        "|---|---|---|---|" + "---|" * len(names),
    ]
    for row in robust:
        cells = " | ".join(_pct(row.transforms.get(n)) for n in names)
        increase = "" if row.robust_increase is None else f"{row.robust_increase:+.0%}"
        lines.append(
            f"| {row.method_name} | {_pct(row.top1)} | {_pct(row.robust_top1)} | "
            f"{increase} | {cells} |"
        )
    return lines


def _network_line(row: ZooRow) -> str:
    name = f"{row.method_name} ({row.year})" if row.year else row.method_name
    depth = "" if row.depth is None else str(row.depth)
    if row.state != SCORED:
        return f"| {name} | {depth} | {row.missing_reason} | | | | | {row.cost_text} |"
    entry = row.entry
    return (
        f"| {name} | {depth} | {_pct(entry.top1)} | {_pct(entry.top5)} | "
        f"{_pct(entry.robust_top1)} | {row.params_text} | {row.speed_text} | "
        f"{row.training_text} |"
    )
