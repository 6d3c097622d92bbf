"""Sending shards and merges: a Celery chord where a result backend can count the shards.

The chord is the fast path: a group of shard tasks on the shard queue, whichever workers are
free take them, and the result backend (Redis) starts the merge when the last one returns. It is
not the safety net: a shard re-sent by the sweeper, or sent without a result backend (the
embedded filesystem queue), carries ``merge_when_complete`` and sends the merge itself when it
finds every shard done. The merge is idempotent, so two triggers cost a second look, not a
second score.
"""

from __future__ import annotations

import logging
import uuid

from celery import chord
from celery.backends.base import DisabledBackend
from kombu.exceptions import OperationalError

from leaderboard.celery import app
from leaderboard.fleet import routing
from leaderboard.models import ScoringShard
from leaderboard.services.placement import Placement

from .services import shards_create, shards_sent

logger = logging.getLogger(__name__)

SHARD_TASK = "leaderboard.tasks.score_shard"
MERGE_TASK = "leaderboard.tasks.merge_shards"


def shards_dispatch(*, submission_id: uuid.UUID | str, attempt: int, placement: Placement) -> bool:
    """Create the attempt's shard rows and send them; False if the broker refused (the sweeper
    sends them later) or the attempt is no longer running."""
    submission_id = str(submission_id)
    if not shards_create(
        submission_id=submission_id,
        attempt=attempt,
        spans=placement.spans,
        queue=placement.shard_queue,
    ):
        return False
    indexes = list(range(len(placement.spans)))
    with_chord = chords_supported()
    shards = [
        _shard_signature(
            submission_id=submission_id,
            attempt=attempt,
            index=index,
            queue=placement.shard_queue,
            merge_when_complete=not with_chord,
        )
        for index in indexes
    ]
    try:
        if with_chord:
            merge = app.signature(
                MERGE_TASK,
                args=(submission_id, attempt),
                queue=placement.merge_queue,
                immutable=True,
            )
            chord(shards, merge).apply_async()
        else:
            for signature in shards:
                signature.apply_async()
    except (OperationalError, OSError):
        logger.exception("could not send the shards of %s; the sweeper will", submission_id)
        return False
    shards_sent(submission_id=submission_id, attempt=attempt, indexes=indexes)
    return True


def shard_send(*, shard: ScoringShard) -> bool:
    """Send one shard again (after a lost worker or message); it merges when it is the last."""
    signature = _shard_signature(
        submission_id=str(shard.submission_id),
        attempt=shard.attempt,
        index=shard.index,
        queue=shard.queue,
        merge_when_complete=True,
    )
    try:
        signature.apply_async()
    except (OperationalError, OSError):
        logger.exception("could not send shard %s", shard)
        return False
    shards_sent(submission_id=shard.submission_id, attempt=shard.attempt, indexes=[shard.index])
    return True


def merge_send(*, submission_id: uuid.UUID | str, attempt: int) -> bool:
    """Send the merge of an attempt whose shards are all done."""
    queue = routing.control_queue(queues=routing.configured_queues())
    try:
        app.send_task(MERGE_TASK, args=[str(submission_id), attempt], queue=queue)
    except (OperationalError, OSError):
        logger.exception("could not send the merge of %s", submission_id)
        return False
    return True


def chords_supported() -> bool:
    """A chord needs a result backend to count its finished parts."""
    return not isinstance(app.backend, DisabledBackend)


def _shard_signature(
    *, submission_id: str, attempt: int, index: int, queue: str, merge_when_complete: bool
):
    return app.signature(
        SHARD_TASK,
        args=(submission_id, attempt, index),
        kwargs={"merge_when_complete": merge_when_complete},
        queue=queue,
        immutable=True,
    )
