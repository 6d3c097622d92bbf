"""Baseline entries: one of our networks submitted like a participant's model.

The shipped weights (``baselines/weights``) are entered as they are, without training, on a
challenge whose hidden set and input spec they were tested on; ``--retrain`` trains (or reuses
./var's cache). Either way the file goes through ``baseline_submission_create``, the same
storage, format detection and queue as an upload; the normal worker scores it. Seeding is
idempotent: an edition holds at most one live entry per architecture and cache key (recipe +
training data), whether it came shipped or trained here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction

from baselines import catalogue
from baselines.catalogue import Baseline
from baselines.data import TrainingData, prepare, read_split
from baselines.pipeline import TrainedBaseline, cache_key, train_or_reuse
from baselines.recipes import Recipe
from baselines.shipped import Shipped
from leaderboard import baseline_progress
from leaderboard.evaluation.datasets import InputSpec
from leaderboard.models import Challenge, Edition, Submission

from .submissions import baseline_submission_create

SUBMIT_FORMATS = ("onnx", "safetensors")


@dataclass(frozen=True)
class TrainingSplit:
    """A challenge's training images through its own input spec, read once per command."""

    images: np.ndarray
    labels: np.ndarray
    spec: InputSpec
    num_classes: int

    def prepared(self, recipe: Recipe) -> TrainingData:
        return prepare(
            images=self.images,
            labels=self.labels,
            spec=self.spec,
            num_classes=self.num_classes,
            val_size=recipe.val_size,
            seed=recipe.seed,
            train_limit=recipe.train_limit,
        )


@dataclass(frozen=True)
class SeedOutcome:
    baseline: Baseline
    submission: Submission | None  # None when training stopped early (``stop_after``)
    created: bool
    trained: TrainedBaseline | None  # None when the entry existed and nothing was trained


def baseline_training_split(*, challenge: Challenge) -> TrainingSplit:
    """The challenge's training split, or ValueError if it has none (or no compiled test set).

    A relative ``train_data_path`` is read under DATA_ROOT, like ``dataset_path``.
    """
    if not challenge.train_data_path or not challenge.train_data_format:
        raise ValueError(f"challenge {challenge.slug!r} has no training data path and format")
    if not challenge.input_spec or not challenge.class_names:
        raise ValueError(f"challenge {challenge.slug!r} has no imported test set (input spec)")
    source = Path(challenge.train_data_path)
    if not source.is_absolute():
        source = Path(settings.DATA_ROOT) / source
    spec = InputSpec.from_dict(challenge.input_spec)
    images, labels = read_split(fmt=challenge.train_data_format, source=source, spec=spec)
    return TrainingSplit(images=images, labels=labels, spec=spec, num_classes=challenge.num_classes)


def baseline_seed(
    *,
    edition: Edition,
    baseline: Baseline,
    split: TrainingSplit,
    recipe: Recipe | None = None,
    cache_root: Path | None = None,
    device: str = "cpu",
    submit_format: str = "onnx",
    progress: bool = True,
    stop_after: int | None = None,
    log: Callable[[str], None] = print,
    on_epoch: Callable[[float, int, float], None] | None = None,
    train_again: bool = False,
) -> SeedOutcome:
    """Make sure ``edition`` has this baseline's entry: existing, or trained/reused and queued.

    ``train_again`` trains (or reuses the cache) even when the entry exists, and keeps it.
    """
    recipe = recipe or baseline.recipe
    cache_root = Path(cache_root or Path(settings.VAR_DIR) / "baselines")
    data = split.prepared(recipe)
    existing = baseline_entry_existing(edition=edition, baseline=baseline, recipe=recipe, data=data)
    if existing is not None and not train_again:
        log(f"{baseline.arch}: {edition} already has this entry ({existing.pk})")
        return SeedOutcome(baseline=baseline, submission=existing, created=False, trained=None)
    trained = train_or_reuse(
        baseline=baseline,
        recipe=recipe,
        data=data,
        cache_root=cache_root,
        device=device,
        progress=progress,
        stop_after=stop_after,
        log=log,
        on_epoch=on_epoch,
    )
    if trained is None:
        return SeedOutcome(baseline=baseline, submission=None, created=False, trained=None)
    submission, created = baseline_entry_get_or_create(
        edition=edition, trained=trained, submit_format=submit_format
    )
    log(f"{baseline.arch}: {'queued' if created else 'kept'} submission {submission.pk}")
    return SeedOutcome(baseline=baseline, submission=submission, created=created, trained=trained)


def baseline_entry_existing(
    *, edition: Edition, baseline: Baseline, recipe: Recipe, data: TrainingData
) -> Submission | None:
    """The edition's live entry for this network, recipe and training data, if it has one."""
    key = cache_key(arch=baseline.arch, recipe=recipe, data_fingerprint=data.fingerprint)
    return _live_entry(edition=edition, stem=f"{baseline.arch}-{key}")


def baseline_entry_get_or_create(
    *, edition: Edition, trained: TrainedBaseline, submit_format: str = "onnx"
) -> tuple[Submission, bool]:
    """Submit the trained files once per edition, architecture and key.

    The edition row is locked while looking, so two seeders running at once still create one
    entry. A FAILED entry does not count (it is not on the board): seeding again retries.
    ONNX is submitted by default: the whole graph in one file, scorable by any worker;
    safetensors (weights + registry name) scores too, the sandbox binding the architectures.
    """
    if submit_format not in SUBMIT_FORMATS:
        raise ValueError(f"submit_format must be one of {SUBMIT_FORMATS}")
    model_path = trained.onnx if submit_format == "onnx" else trained.safetensors
    with transaction.atomic():
        Edition.objects.select_for_update().filter(pk=edition.pk).get()
        existing = _live_entry(edition=edition, stem=trained.stem)
        if existing is not None:
            return existing, False
        submission = baseline_submission_create(
            edition=edition,
            model_path=model_path,
            method_name=trained.baseline.method_name,
            method_year=trained.baseline.year,
            arch=trained.baseline.arch if submit_format == "safetensors" else "",
            description=_description(trained),
        )
    return submission, True


def _live_entry(*, edition: Edition, stem: str) -> Submission | None:
    return (
        Submission.objects.filter(
            edition=edition, is_baseline=True, original_name__startswith=f"{stem}."
        )
        .exclude(status=Submission.Status.FAILED)
        .order_by("created_at")
        .first()
    )


def _description(trained: TrainedBaseline) -> str:
    meta, recipe = trained.meta, trained.recipe
    val_error = 1 - float(meta.get("val_accuracy") or 0)
    return (
        f"{trained.baseline.citation}. Architecture {trained.baseline.arch} "
        f"({meta.get('params', 0):,} parameters), trained by the platform: {recipe.epochs} "
        f"epochs of SGD (lr {recipe.lr}, batch {recipe.batch_size}) on "
        f"{meta.get('train_images', 0):,} training images in {meta.get('train_seconds', 0):.0f} s "
        f"on {meta.get('device', '?')}; validation error {val_error:.2%} on "
        f"{meta.get('val_images', 0):,} held-out training images. Recipe key {trained.key}."
    )


def baseline_shipped_mismatch(*, challenge: Challenge, shipped: Shipped) -> str:
    """Why the shipped weights do not belong on ``challenge`` ("" when they do).

    They do when the challenge's hidden set is the one they were tested on, with the same
    input spec and classes: reading the training split to compare it would take longer than
    entering every network.
    """
    record = shipped.record
    test = record.get("test") or {}
    if not challenge.dataset_fingerprint or not challenge.input_spec:
        return "the challenge has no imported test set"
    if test.get("data_fingerprint") != challenge.dataset_fingerprint:
        return "tested on another hidden set"
    if InputSpec.from_dict(record["input_spec"]) != InputSpec.from_dict(challenge.input_spec):
        return "made for another input spec"
    if int(record.get("num_classes", -1)) != challenge.num_classes:
        return f"made for {record.get('num_classes')} classes"
    return ""


def baseline_shipped_enter(*, edition: Edition, shipped: Shipped) -> tuple[Submission, bool]:
    """Enter shipped weights as a baseline (once per edition, architecture and key).

    The file is checked against its record's SHA-256, copied under VAR_DIR with the entry's
    name (``<arch>-<key>.safetensors``, the name a retrained run would carry), and submitted
    with its architecture: the worker scores it on this edition's hidden set.
    """
    shipped.verify()
    with transaction.atomic():
        Edition.objects.select_for_update().filter(pk=edition.pk).get()
        existing = _live_entry(edition=edition, stem=shipped.stem)
        if existing is not None:
            return existing, False
        submission = baseline_submission_create(
            edition=edition,
            model_path=_shipped_copy(shipped),
            method_name=shipped.record["method_name"],
            method_year=int(shipped.record["year"]),
            arch=shipped.arch,
            description=_shipped_description(shipped),
        )
    return submission, True


def baseline_training_started(*, edition: Edition, baseline: Baseline) -> Callable:
    """An ``on_epoch`` callback that records this network's epochs for the board's notice."""

    def on_epoch(done: float, epochs: int, seconds: float) -> None:
        baseline_progress.progress_update(
            edition_id=edition.pk,
            arch=baseline.arch,
            method_name=baseline.method_name,
            done=done,
            epochs=epochs,
            seconds=seconds,
        )

    return on_epoch


def baseline_training_finished(*, edition: Edition, arch: str | None = None) -> None:
    """One network (or, without ``arch``, every one) no longer trains for ``edition``."""
    if arch is None:
        baseline_progress.progress_clear(edition_id=edition.pk)
    else:
        baseline_progress.progress_done(edition_id=edition.pk, arch=arch)


def _shipped_copy(shipped: Shipped) -> Path:
    """The shipped file under VAR_DIR named as its entry (written once, then reused)."""
    target = Path(settings.VAR_DIR) / "baselines" / "shipped" / f"{shipped.stem}.safetensors"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(shipped.path, temporary)
        os.replace(temporary, target)
    return target


def _shipped_description(shipped: Shipped) -> str:
    record = shipped.record
    recipe, training, validation = record["recipe"], record["training"], record["validation"]
    citation = catalogue.get(shipped.arch).citation
    return (
        f"{citation}. Architecture {shipped.arch} ({record.get('params') or 0:,} parameters), "
        "shipped with "
        f"the platform's code ({record['dtype']} safetensors, SHA-256 {shipped.sha256[:16]}…): "
        f"{record['epochs']} epochs of SGD (lr {recipe['lr']}, batch {recipe['batch_size']}, "
        f"seed {record['seed']}) on {record.get('train_images', 0):,} training images in "
        f"{training.get('wall_seconds') or 0:.0f} s on {training.get('device', '?')}; "
        f"validation error {validation['top1_error']:.2%} on {validation['images']:,} held-out "
        f"training images. Recipe key {shipped.key}."
    )
