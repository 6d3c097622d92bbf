"""Every baseline network of the catalogue, as a visitor should read it: the measured ones with
their clean and robust errors, parameters and images per second (all measured by our scorer),
the others saying why they are missing (not trained here, and what an epoch would cost).

The measured rows are ``selectors.baseline_report``'s, so the challenge page and
``manage.py baselines_report`` (the README's table) show the same numbers; the page reads one
edition (the newest with a scored baseline) on the part of its hidden set its boards show, the
README all of it. Below the table, ``depth_trend`` says whether deeper did better.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Case, IntegerField, Subquery, Value, When
from django.utils import timezone

from baselines import catalogue, shipped
from baselines.epoch_time import TRAIN_IMAGES
from baselines.epoch_time import recorded as epoch_time_recorded
from leaderboard.metrics import ALL, metric_get
from leaderboard.models import Challenge, Edition, Submission

from .baseline_report import BaselineRow, baseline_entries, baseline_rows
from .depth_trend import Trend, depth_trend
from .ranking import edition_phase

SCORED, WAITING, NOT_ENTERED, NOT_TRAINED = "scored", "waiting", "not_entered", "not_trained"


@dataclass(frozen=True)
class ZooRow:
    """One network: its entry on the edition if it has one, else what is known without it."""

    method_name: str
    year: int | None
    depth: int | None  # layers with weights (the catalogue's); None: not a catalogued network
    arch: str
    entry: BaselineRow | None = None
    weights_shipped: bool = False
    epoch_time: dict | None = None  # baselines.epoch_time's measured row, where one was kept
    recipe_epochs: int | None = None

    @property
    def state(self) -> str:
        if self.entry is not None:
            return SCORED if self.entry.status == Submission.Status.SCORED else WAITING
        return NOT_ENTERED if self.weights_shipped else NOT_TRAINED

    @property
    def epoch_minutes(self) -> float | None:
        """Minutes of one CPU core per training epoch, as measured (estimated from steps)."""
        if not self.epoch_time:
            return None
        return self.epoch_time.get("estimated_cpu_seconds_per_epoch", 0) / 60

    @property
    def recipe_hours(self) -> float | None:
        if not self.epoch_time:
            return None
        return self.epoch_time.get("estimated_cpu_hours_for_recipe")

    @property
    def params_text(self) -> str:
        params = self.entry.params if self.entry else None
        return "" if params is None else f"{params:,}"

    @property
    def speed_text(self) -> str:
        """Images per second, as the scoring run measured them (never a published figure)."""
        speed = self.entry.throughput if self.entry else None
        return "" if speed is None else f"{speed:,.0f}"

    @property
    def training_text(self) -> str:
        """How the scored weights were trained: epochs, wall time, device; shipped or not."""
        meta = self.entry.training if self.entry else {}
        if not meta:
            return ""
        epochs = (meta.get("recipe") or {}).get("epochs")
        text = f"{epochs} epochs in {duration(meta.get('train_seconds') or 0)}"
        text += f", {meta.get('device') or '?'}"
        return f"{text}, shipped weights" if self.entry.shipped else text

    @property
    def missing_reason(self) -> str:
        """Why a network has no numbers, in a visitor's words ("" when it has them)."""
        return {
            WAITING: "being scored",
            NOT_ENTERED: "not entered on this edition (its weights ship with the code)",
            NOT_TRAINED: "not trained here",
        }.get(self.state, "")

    @property
    def cost_text(self) -> str:
        """For a network not trained here: what its recipe would cost on a CPU, as measured."""
        if self.state != NOT_TRAINED:
            return ""
        epochs = f"the recipe's {self.recipe_epochs} epochs" if self.recipe_epochs else "training"
        if self.epoch_minutes is None:
            return f"no weights; {epochs} were not run"
        steps = self.epoch_time.get("timed_steps")
        return (
            f"one training epoch of {TRAIN_IMAGES:,} 28x28 images takes about "
            f"{self.epoch_minutes:,.0f} min of a CPU core (estimated from {steps} timed steps), "
            f"{epochs} about {self.recipe_hours:g} h"
        )

    @property
    def missing_text(self) -> str:
        cost = self.cost_text
        return f"{self.missing_reason}: {cost}" if cost else self.missing_reason


@dataclass(frozen=True)
class Zoo:
    edition: Edition | None  # the edition whose entries are shown (None: no entries yet)
    part: str  # the part of its hidden set the errors are on
    metric: str  # the key of the clean error the trend reads (the challenge's ranking metric)
    rows: tuple[ZooRow, ...]

    @property
    def n_images(self) -> int | None:
        return next((r.entry.n_images for r in self.rows if r.entry and r.entry.n_images), None)

    @property
    def measured(self) -> tuple[ZooRow, ...]:
        return tuple(row for row in self.rows if row.state == SCORED)

    @property
    def has_robust(self) -> bool:
        return any(row.entry.robust_top1 is not None for row in self.measured)

    @property
    def clean_trend(self) -> Trend:
        metric = metric_get(self.metric)
        values = [
            (r.method_name, r.depth, getattr(r.entry, metric.key, None)) for r in self.measured
        ]
        return depth_trend(label=f"clean {metric.label.lower()}", values=values)

    @property
    def robust_trend(self) -> Trend:
        values = [(r.method_name, r.depth, r.entry.robust_top1) for r in self.measured]
        return depth_trend(label="robust error (mean top-1 error under corruption)", values=values)


def baseline_zoo(
    *,
    rows: list[BaselineRow],
    dataset_fingerprint: str,
    part: str = ALL,
    metric: str = "top1",
    edition: Edition | None = None,
) -> Zoo:
    """The catalogue's networks with ``rows`` (an edition's entries) filled in, by paper year,
    then depth: an entry of no catalogued network keeps its own row. Shipped weights count
    only where they were tested on the hidden set of ``dataset_fingerprint``."""

    def fitting(arch: str) -> shipped.Shipped | None:
        weights = shipped.get(arch)
        test = (weights.record.get("test") or {}) if weights else {}
        return (
            weights
            if dataset_fingerprint and test.get("data_fingerprint") == dataset_fingerprint
            else None
        )

    by_arch = {b.arch: b for b in catalogue.CATALOGUE}
    by_name = {b.method_name: b for b in catalogue.CATALOGUE}
    entered: set[str] = set()
    out = []
    for row in rows:
        network = by_arch.get(row.arch) or by_name.get(row.method_name)
        if network is not None:
            entered.add(network.arch)
        out.append(
            ZooRow(
                method_name=row.method_name,
                year=row.year,
                depth=network.depth if network else None,
                arch=network.arch if network else row.arch,
                entry=row,
                weights_shipped=bool(network and fitting(network.arch)),
                recipe_epochs=network.recipe.epochs if network else None,
            )
        )
    for network in catalogue.CATALOGUE:
        if network.arch in entered:
            continue
        weights = fitting(network.arch)
        out.append(
            ZooRow(
                method_name=network.method_name,
                year=network.year,
                depth=network.depth,
                arch=network.arch,
                weights_shipped=weights is not None,
                epoch_time=None if weights else epoch_time_recorded(network.arch),
                recipe_epochs=network.recipe.epochs,
            )
        )
    out.sort(key=lambda r: (r.year or 0, r.depth or 0, r.method_name))
    return Zoo(edition=edition, part=part, metric=metric, rows=tuple(out))


def challenge_baseline_zoo(
    *, challenge: Challenge, cache_root: Path, now: dt.datetime | None = None
) -> Zoo:
    """The zoo of ``challenge``'s newest edition with a scored baseline (else its newest with
    any), on the part its boards show now. One query."""
    now = now or timezone.now()
    live = baseline_entries().filter(edition__challenge=challenge)
    newest = (
        live.annotate(
            unscored=Case(
                When(status=Submission.Status.SCORED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("unscored", "-edition__year", "-edition__opens_at", "-edition_id")
        .values("edition_id")[:1]
    )
    submissions = list(live.filter(edition_id=Subquery(newest)).select_related("edition"))
    edition = submissions[0].edition if submissions else None
    if edition is not None:
        edition.challenge = challenge  # the page links it: no query
    part = edition_phase(edition=edition, now=now) if edition else ALL
    rows = baseline_rows(submissions=submissions, cache_root=cache_root, part=part)
    return baseline_zoo(
        rows=rows,
        dataset_fingerprint=challenge.dataset_fingerprint,
        part=part,
        metric=challenge.primary_metric,
        edition=edition,
    )


def duration(seconds: float) -> str:
    """Seconds as a reader takes them in: "65 s", "17 min", "1.6 h"."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def baseline_facts(zoo: Zoo) -> dict[str, str]:
    """By method name, what the history chart says beside a measured baseline's error: its
    depth, parameters and the images per second our scorer measured."""
    facts = {}
    for row in zoo.measured:
        parts = [f"{row.depth} layers"] if row.depth else []
        if row.entry.params is not None:
            parts.append(f"{row.entry.params:,} parameters")
        if row.entry.throughput is not None:
            parts.append(f"{row.entry.throughput:,.0f} images/s scored here")
        facts[row.method_name] = " · ".join(parts)
    return facts
