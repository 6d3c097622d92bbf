"""The robustness track's writes: turning it on for a challenge, its sample strip, score columns.

Turning the track on compiles the transformed copies of the hidden set once, beside the set
(``evaluator.robustness.compile``; a worker would otherwise compile them on first use), and
renders one public sample image, taken from the challenge's training-split samples and never
from the hidden set, under every transform for the submission pages.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from dataclasses import dataclass

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from leaderboard.evaluation.robustness import TRANSFORM_NAMES, compile_copies, transformed
from leaderboard.models import Challenge, SampleImage, Submission

logger = logging.getLogger(__name__)
CLEAN = "clean"  # the untransformed sample, first in the strip


@dataclass(frozen=True)
class RobustnessSetup:
    fingerprint: str  # of the compiled copies (recorded with every robust score)
    names: tuple[str, ...]
    seconds: float
    samples: dict  # what Challenge.robustness_samples now holds


def robust_score_fields(*, result: dict) -> dict:
    """Score's robust columns from an evaluator result (none when it has no robustness part)."""
    robust = result.get("robustness")
    if not isinstance(robust, dict):
        return {}
    summary = robust.get("summary") or {}

    def mean(part: str) -> float | None:
        value = (summary.get(part) or {}).get("mean_top1_error")
        return None if value is None else float(value)

    return {
        "robust_error": mean("all"),
        "public_robust_error": mean("public"),
        "private_robust_error": mean("private"),
    }


def challenge_robustness_enable(*, challenge: Challenge, progress: bool = False) -> RobustnessSetup:
    """Compile the copies (kept when current), render the sample strip, switch the track on.

    ValueError when the challenge has no compiled hidden set yet.
    """
    if challenge.dataset_dir is None:
        raise ValueError(f"challenge {challenge.slug!r} has no compiled hidden set yet")
    started = time.perf_counter()
    compiled = compile_copies(dataset_dir=challenge.dataset_dir, progress=progress)
    samples = challenge_robustness_samples_render(challenge=challenge)
    Challenge.objects.filter(pk=challenge.pk).update(robustness=True)
    challenge.robustness = True
    return RobustnessSetup(
        fingerprint=compiled.fingerprint,
        names=compiled.names,
        seconds=time.perf_counter() - started,
        samples=samples,
    )


def challenge_robustness_disable(*, challenge: Challenge) -> None:
    """Stop scoring robustness for new submissions; scores and copies on disk are kept."""
    Challenge.objects.filter(pk=challenge.pk).update(robustness=False)
    challenge.robustness = False


def challenge_robustness_samples_render(*, challenge: Challenge) -> dict:
    """Store the first sample image under every transform; returns the stored description.

    Empty when the challenge has no usable sample (the pages then show the chart alone).
    """
    sample, image = _first_sample(challenge)
    value: dict = {}
    if sample is not None and image is not None:
        paths = {}
        for name in (CLEAN, *TRANSFORM_NAMES):
            pixels = image if name == CLEAN else transformed(name, image)
            path = f"robustness/{challenge.slug}/{sample.pk}-{name}.png"
            if default_storage.exists(path):
                default_storage.delete(path)
            paths[name] = default_storage.save(path, ContentFile(_png(pixels)))
        value = {"sample": sample.pk, "label_name": sample.label_name, "images": paths}
    Challenge.objects.filter(pk=challenge.pk).update(robustness_samples=value)
    challenge.robustness_samples = value
    return value


def robustness_samples_refresh(*, submission_id: uuid.UUID | str) -> bool:
    """After a robust score: render the strip if it is missing or shows an old first sample.

    Never raises (it runs on the worker after the score is safely recorded); True if rendered.
    """
    try:
        submission = Submission.objects.select_related("edition__challenge").get(pk=submission_id)
        challenge = submission.edition.challenge
        first = challenge.samples.order_by("position", "id").values_list("pk", flat=True).first()
        if first is None or (challenge.robustness_samples or {}).get("sample") == first:
            return False
        return bool(challenge_robustness_samples_render(challenge=challenge))
    except Exception:
        logger.exception("rendering the robustness samples for %s failed", submission_id)
        return False


def _first_sample(challenge: Challenge) -> tuple[SampleImage | None, np.ndarray | None]:
    """The first sample in page order, decoded at the challenge's input size, or (None, None)."""
    spec = challenge.input_spec or {}
    sample = SampleImage.objects.filter(challenge=challenge).order_by("position", "id").first()
    if sample is None or not spec:
        return None, None
    channels, height, width = int(spec["channels"]), int(spec["height"]), int(spec["width"])
    try:
        with sample.image.open("rb") as f, Image.open(io.BytesIO(f.read())) as decoded:
            pixels = np.asarray(decoded.convert("L" if channels == 1 else "RGB"))
    except (OSError, ValueError):
        return sample, None
    if pixels.shape[:2] != (height, width):
        return sample, None
    image = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    return sample, np.ascontiguousarray(image, dtype=np.uint8)


def _png(image: np.ndarray) -> bytes:
    """One uint8 (C, H, W) image as PNG bytes."""
    array = image[0] if image.shape[0] == 1 else np.transpose(image, (1, 2, 0))
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
