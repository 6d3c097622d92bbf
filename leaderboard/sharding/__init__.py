"""Scoring a large hidden set as shards on several workers, then merging them exactly once.

    score_submission   claims the submission (queued -> running), creates one ScoringShard row
                       per slice, sends a Celery chord: the shards on the GPU queue, the merge
                       as its callback
    score_shard        claims its row (queued -> running), scores its slice in the sandbox,
                       writes the logits to the shared storage, marks the row done
    merge_shards       when every row is done: loads one file per index, computes the report,
                       records the score with the submission's conditional update

Rows are the source of truth: a shard whose worker vanished is taken back and re-sent by the
sweeper (``shard_sweep``) and the merge runs once the last shard is done, however it got there.
"""

from leaderboard.services.placement import (
    Placement,
    placement,
    shard_directory,
    submission_placement,
)

from .dispatch import merge_send, shard_send, shards_dispatch
from .services import (
    MergeJob,
    ShardJob,
    merge_start,
    shard_fail,
    shard_fail_exhausted,
    shard_finish,
    shard_release,
    shard_start,
    shards_all_done,
    shards_create,
    shards_remove_files,
)
from .sweep import ShardSweepReport, shard_sweep

__all__ = [
    "MergeJob",
    "Placement",
    "ShardJob",
    "ShardSweepReport",
    "merge_send",
    "merge_start",
    "placement",
    "shard_directory",
    "shard_fail",
    "shard_fail_exhausted",
    "shard_finish",
    "shard_release",
    "shard_send",
    "shard_start",
    "shard_sweep",
    "shards_all_done",
    "shards_create",
    "shards_dispatch",
    "shards_remove_files",
    "submission_placement",
]
