"""What each Celery task does, one function per task: claim, run through the bridge, record.

``leaderboard.tasks`` only wraps these; they hold no Celery state, so a test or a command can
call them directly.
"""

from leaderboard.workflows.checks import check_model
from leaderboard.workflows.imports import import_dataset
from leaderboard.workflows.robustness import score_robustness
from leaderboard.workflows.scoring import score_submission
from leaderboard.workflows.shards import merge_shards, score_shard

__all__ = [
    "check_model",
    "import_dataset",
    "merge_shards",
    "score_robustness",
    "score_shard",
    "score_submission",
]
