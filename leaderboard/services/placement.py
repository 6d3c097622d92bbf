"""Where a submission is scored and whether in shards, from its challenge and its file."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from math import prod
from pathlib import Path

from django.conf import settings

from leaderboard.evaluation.shards import Span, shard_spans
from leaderboard.fleet import routing
from leaderboard.models import Submission


@dataclass(frozen=True)
class Placement:
    """The queue of the submission's task and, for a sharded run, its slices and queues."""

    queue: str
    spans: tuple[Span, ...] = ()
    shard_queue: str = ""
    merge_queue: str = ""

    @property
    def sharded(self) -> bool:
        return bool(self.spans)


def placement(*, n_images: int, image_values: int, model_bytes: int) -> Placement:
    """Scored whole on the queue that fits, or in shards when the set is large enough.

    A sharded run starts on the control queue (claiming and sending take milliseconds); each
    shard goes where a set of its size goes; the merge goes to the control queue.
    """
    queues, limits = routing.configured_queues(), routing.configured_limits()
    spans = _spans(n_images=n_images, model_bytes=model_bytes)
    if not spans:
        work = routing.Workload(
            n_images=n_images, image_values=image_values, model_bytes=model_bytes
        )
        return Placement(queue=routing.scoring_queue(work=work, queues=queues, limits=limits))
    largest = max(stop - start for start, stop in spans)
    shard_work = routing.Workload(
        n_images=largest, image_values=image_values, model_bytes=model_bytes
    )
    control = routing.control_queue(queues=queues)
    return Placement(
        queue=control,
        spans=tuple(spans),
        shard_queue=routing.scoring_queue(work=shard_work, queues=queues, limits=limits),
        merge_queue=control,
    )


def submission_placement(*, submission_id: uuid.UUID | str) -> Placement:
    """``placement`` for a stored submission (one query)."""
    row = (
        Submission.objects.filter(pk=submission_id)
        .values_list(
            "size_bytes", "edition__challenge__n_test_images", "edition__challenge__input_spec"
        )
        .first()
    )
    if row is None:
        return Placement(queue=routing.configured_queues().gpu)
    size_bytes, n_images, spec = row
    return placement(
        n_images=int(n_images or 0),
        image_values=image_values(spec or {}),
        model_bytes=int(size_bytes or 0),
    )


def image_values(spec: dict) -> int:
    """C x H x W from a challenge's input spec (0 when it has none yet)."""
    try:
        return prod(int(spec[key]) for key in ("channels", "height", "width"))
    except (KeyError, TypeError, ValueError):
        return 0


def shard_directory(*, submission_id: uuid.UUID | str, attempt: int) -> Path:
    """The shared directory of one attempt's shard files: fixed by submission and attempt."""
    return Path(settings.SCORING_SHARD_DIR) / str(submission_id) / f"attempt-{int(attempt)}"


def _spans(*, n_images: int, model_bytes: int) -> list[Span]:
    """Slices of a set large enough, for a model heavy enough, to be worth the fixed costs."""
    minimum, size = settings.SCORING_SHARD_MIN_IMAGES, settings.SCORING_SHARD_SIZE
    if minimum <= 0 or size <= 0 or n_images < max(minimum, 2):
        return []
    if model_bytes < settings.SCORING_SHARD_MIN_MODEL_MB * 2**20:
        return []
    spans = shard_spans(n_images=n_images, shard_size=size)
    return spans if len(spans) > 1 else []
