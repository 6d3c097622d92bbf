"""Print an edition's baselines as measured, as the README's Markdown tables."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from leaderboard.evaluation.robustness import TRANSFORM_NAMES
from leaderboard.models import Challenge
from leaderboard.selectors.baseline_report import BaselineRow, edition_baseline_report

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
        "Print the baseline entries of a challenge's edition as Markdown: top-1/top-5 error over "
        "the whole hidden set, parameters and the training run, then (when the robustness track "
        "scored them) the mean corruption error and the top-1 error under each transform."
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
        out = self.stdout.write
        out(f"{edition}: {len(rows)} baseline entries\n")
        out("| network (year) | top-1 error | top-5 error | parameters | images/s | training |")
        out("|---|---|---|---|---|---|")
        for row in rows:
            speed = "" if row.throughput is None else f"{row.throughput:,.0f}"
            out(
                f"| {row.method_name} ({row.year}) | {_pct(row.top1) or row.status} | "
                f"{_pct(row.top5)} | {'' if row.params is None else f'{row.params:,}'} | "
                f"{speed} | {_training(row)} |"
            )
        robust = [row for row in rows if row.transforms]
        if not robust:
            return
        names = [n for n in TRANSFORM_NAMES if any(n in row.transforms for row in robust)]
        out("")
        heads = " | ".join(_SHORT.get(n, n) for n in names)
        out(f"| network | clean top-1 | mean corruption error | increase | {heads} |")
        out("|---|---|---|---|" + "---|" * len(names))
        for row in robust:
            cells = " | ".join(_pct(row.transforms.get(n)) for n in names)
            increase = "" if row.robust_increase is None else f"{row.robust_increase:+.0%}"
            out(
                f"| {row.method_name} | {_pct(row.top1)} | {_pct(row.robust_top1)} | "
                f"{increase} | {cells} |"
            )


def _training(row: BaselineRow) -> str:
    meta = row.training
    if not meta:
        return ""
    epochs = (meta.get("recipe") or {}).get("epochs")
    text = f"{epochs} epochs, {meta.get('train_seconds', 0):.0f} s, {meta.get('device', '?')}"
    return f"{text} (shipped weights)" if row.shipped else text
