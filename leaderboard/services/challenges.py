"""Hosts' writes: challenges, their compiled test sets and sample images, editions."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from leaderboard.evaluation.datasets import (
    ImportReport,
    InputSpec,
    import_dataset,
    load_training_split,
    open_dataset,
)
from leaderboard.metrics import metric_for_classes
from leaderboard.models import Challenge, Edition, Metric, Precision, SampleImage

from .edition_baselines import edition_baselines_enter
from .people.roles import roles_for_new_edition


def challenge_get_or_create(
    *,
    slug: str,
    title: str,
    description: str = "",
    primary_metric: str = Metric.TOP5,
    precision: str = Precision.FP32,
) -> tuple[Challenge, bool]:
    """Create the challenge, or return the existing one unchanged (commands are re-runnable)."""
    return Challenge.objects.get_or_create(
        slug=slug,
        defaults={
            "title": title,
            "description": description,
            "primary_metric": primary_metric,
            "precision": precision,
        },
    )


def challenge_metric_by_classes(*, challenge: Challenge, replacing: str | None = None) -> bool:
    """Rank ``challenge`` by the metric its number of classes calls for (top-1 below 20
    classes, top-5 from 20 up: ``metrics.metric_for_classes``). With ``replacing``, only while
    it is still ranked by that metric (an old default moves over, a host's choice stays).
    True if the row changed."""
    metric = metric_for_classes(challenge.num_classes)
    rows = Challenge.objects.filter(pk=challenge.pk).exclude(primary_metric=metric)
    if replacing is not None:
        rows = rows.filter(primary_metric=replacing)
    changed = rows.update(primary_metric=metric) > 0
    if changed:
        challenge.primary_metric = metric
    return changed


def challenge_import_dataset(
    *,
    challenge: Challenge,
    fmt: str,
    source: Path,
    spec: InputSpec,
    public_fraction: float = 0.5,
    seed: int = 0,
    class_names_file: Path | None = None,
    skip_bad: bool = False,
    limit: int | None = None,
    progress: bool = False,
    train_source: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Compile a hidden test set into the challenge's data directory and point the challenge at it.

    Each import gets a new directory, so scoring runs still reading the previous set are not
    disturbed; the challenge switches over only once the import is complete. ``train_source``
    (the same format) is remembered for training the baselines later.
    """
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    relative = Path("challenges") / challenge.slug / f"test-{stamp}"
    out = Path(settings.DATA_ROOT) / relative
    out.parent.mkdir(parents=True, exist_ok=True)
    report = import_dataset(
        fmt=fmt,
        source=Path(source),
        out=out,
        spec=spec,
        public_fraction=public_fraction,
        seed=seed,
        class_names_file=class_names_file,
        skip_bad=skip_bad,
        progress=progress,
        limit=limit,
        on_progress=on_progress,
    )
    compiled = open_dataset(out)
    challenge.dataset_path = str(relative)
    challenge.dataset_fingerprint = compiled.fingerprint
    challenge.n_test_images = compiled.n
    challenge.input_spec = compiled.spec.to_dict()
    challenge.class_names = list(compiled.class_names)
    if train_source is not None:
        challenge.train_data_path = str(train_source)
        challenge.train_data_format = fmt
    challenge.save(
        update_fields=[
            "dataset_path",
            "dataset_fingerprint",
            "n_test_images",
            "input_spec",
            "class_names",
            "train_data_path",
            "train_data_format",
        ]
    )
    return report


def challenge_sample_add(
    *, challenge: Challenge, png: bytes, label: int, label_name: str, position: int
) -> SampleImage:
    """Store one labelled training image (PNG bytes) to show on the challenge page."""
    sample = SampleImage(challenge=challenge, label=label, label_name=label_name, position=position)
    sample.image.save(f"{position:03d}-{label}.png", ContentFile(png), save=False)
    sample.save()
    return sample


@transaction.atomic
def challenge_samples_from_training(
    *, challenge: Challenge, fmt: str, source: Path, per_class: int = 1, limit: int = 5000
) -> list[SampleImage]:
    """Replace the challenge's samples with a few labelled images from the TRAINING split.

    Never from the hidden set: showing test images would leak labels participants could fit.
    Images go through the challenge's input spec, so they look exactly like what models see.
    """
    spec = InputSpec.from_dict(challenge.input_spec)
    images, labels = load_training_split(fmt=fmt, source=Path(source), spec=spec, limit=limit)
    return challenge_samples_replace(
        challenge=challenge, images=images, labels=labels, per_class=per_class
    )


def challenge_samples_replace(
    *, challenge: Challenge, images: np.ndarray, labels: np.ndarray, per_class: int = 1
) -> list[SampleImage]:
    """The first ``per_class`` images of each class (up to 40 images) become the samples."""
    names = challenge.class_names
    for old in challenge.samples.all():
        old.image.delete(save=False)
        old.delete()
    samples = []
    for label in sorted(set(int(x) for x in labels))[: max(1, 40 // per_class)]:
        for index in np.flatnonzero(labels == label)[:per_class]:
            samples.append(
                challenge_sample_add(
                    challenge=challenge,
                    png=png_bytes(images[index]),
                    label=label,
                    label_name=names[label] if label < len(names) else str(label),
                    position=len(samples),
                )
            )
    return samples


def png_bytes(image: np.ndarray) -> bytes:
    """Encode one uint8 (C, H, W) image as PNG."""
    array = image[0] if image.shape[0] == 1 else np.transpose(image, (1, 2, 0))
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@transaction.atomic
def edition_get_or_create(
    *,
    challenge: Challenge,
    year: int,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    daily_limit: int = 5,
    total_limit: int = 100,
    public_fraction: float = 0.5,
    max_upload_mb: int = 500,
) -> tuple[Edition, bool]:
    """The edition for ``year`` (slug = the year); by default open from now to the year's end.
    A new one gets the challenge's hosts (``people.roles``) and its baselines
    (``edition_baselines``)."""
    now = timezone.now()
    opens_at = opens_at or now
    closes_at = closes_at or dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    edition, created = Edition.objects.get_or_create(
        challenge=challenge,
        slug=str(year),
        defaults={
            "year": year,
            "opens_at": opens_at,
            "closes_at": closes_at,
            "daily_limit": daily_limit,
            "total_limit": total_limit,
            "public_fraction": public_fraction,
            "max_upload_mb": max_upload_mb,
        },
    )
    if created:
        roles_for_new_edition(edition=edition)
        edition_baselines_enter(edition=edition)
    return edition, created
