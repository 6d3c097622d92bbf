"""A challenge's training set compiled from an upload, and what a host is shown of each set.

The training set is public data: its compiled images give the challenge's sample strip, and
participants download the file the host uploaded. The hidden set's figures (class counts, a
strip of its images) are for the hosts' page only.
"""

from __future__ import annotations

import base64
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone
from PIL import Image

from leaderboard.evaluation.datasets import (
    DatasetError,
    ImportReport,
    InputSpec,
    import_dataset,
    open_dataset,
)
from leaderboard.models import Challenge

from .challenges import challenge_samples_replace

STRIP = 12  # images on the host's strip
THUMB = 64  # pixels, the longer side


def challenge_import_training(
    *,
    challenge: Challenge,
    fmt: str,
    source: Path,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Compile the training set to the challenge's input spec, check its classes against the
    hidden set's, and replace the sample strip with a few of its images."""
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    relative = Path("challenges") / challenge.slug / f"train-{stamp}"
    out = Path(settings.DATA_ROOT) / relative
    report = import_dataset(
        fmt=fmt,
        source=Path(source),
        out=out,
        spec=InputSpec.from_dict(challenge.input_spec),
        public_fraction=0.0,
        progress=False,
        on_progress=on_progress,
    )
    compiled = open_dataset(out)
    expected = list(challenge.class_names)
    same = compiled.num_classes == len(expected) and (
        fmt != "imagefolder" or list(compiled.class_names) == expected
    )
    if not same:
        shutil.rmtree(out, ignore_errors=True)
        raise DatasetError(
            f"the training set has {compiled.num_classes} classes "
            f"({_names(list(compiled.class_names))}); the hidden set has {len(expected)} "
            f"({_names(expected)}). Use the same class folders, in the same names."
        )
    challenge_samples_replace(challenge=challenge, images=compiled.images, labels=compiled.labels)
    return report


def _names(names: list[str]) -> str:
    return ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def dataset_summary(*, challenge: Challenge, part: str) -> dict:
    """Images, class counts and a strip of small images of the set just compiled."""
    if part == "test":
        root = challenge.dataset_dir
    else:
        root = _newest(Path(settings.DATA_ROOT) / "challenges" / challenge.slug, "train-")
    if root is None:
        return {}
    compiled = open_dataset(root)
    counts = np.bincount(compiled.labels, minlength=compiled.num_classes)
    strip = []
    for label in range(min(compiled.num_classes, STRIP)):
        hits = np.flatnonzero(compiled.labels == label)
        if len(hits):
            strip.append(
                {"label": compiled.class_names[label], "png": _thumb(compiled.images[hits[0]])}
            )
    return {
        "n_images": int(compiled.n),
        "num_classes": int(compiled.num_classes),
        "class_counts": [
            {"name": name, "count": int(count)}
            for name, count in zip(compiled.class_names, counts, strict=True)
        ],
        "strip": strip,
    }


def _newest(folder: Path, prefix: str) -> Path | None:
    found = sorted(
        p for p in folder.glob(f"{prefix}*") if p.is_dir() and not p.name.startswith(".")
    )
    return found[-1] if found else None


def _image(array: np.ndarray) -> Image.Image:
    pixels = np.transpose(array, (1, 2, 0))
    return Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)


def _thumb(array: np.ndarray) -> str:
    """A small PNG as a data: URI, so the host's page never links to the set's files."""
    image = _image(array)
    image.thumbnail((THUMB, THUMB))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
