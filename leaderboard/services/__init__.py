"""Every write the site makes: one small module per job, re-exported here.

Views, tasks and management commands call these functions and nothing else that writes.
"""

from .challenges import (
    challenge_get_or_create,
    challenge_import_dataset,
    challenge_sample_add,
    challenge_samples_from_training,
    edition_get_or_create,
)
from .enqueue import submission_enqueue
from .scoring import (
    ScoringJob,
    score_record,
    submission_fail_exhausted,
    submission_release,
    submission_start,
)
from .submissions import baseline_submission_create, submission_create
from .sweep import SweepReport, submission_sweep
from .teams import team_get_or_create_solo

__all__ = [
    "ScoringJob",
    "SweepReport",
    "baseline_submission_create",
    "challenge_get_or_create",
    "challenge_import_dataset",
    "challenge_sample_add",
    "challenge_samples_from_training",
    "edition_get_or_create",
    "score_record",
    "submission_create",
    "submission_enqueue",
    "submission_fail_exhausted",
    "submission_release",
    "submission_start",
    "submission_sweep",
    "team_get_or_create_solo",
]
