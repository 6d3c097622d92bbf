"""Every read the views need, one module per subject, re-exported here."""

from .challenges import challenge_get, challenge_list, edition_get, sample_get
from .leaderboard import Leaderboard, edition_leaderboard, leaderboard_rows
from .submissions import (
    SubmissionUsage,
    submission_get_visible,
    submission_list_for_user,
    submission_statuses,
    submission_usage,
)

__all__ = [
    "Leaderboard",
    "SubmissionUsage",
    "challenge_get",
    "challenge_list",
    "edition_get",
    "edition_leaderboard",
    "leaderboard_rows",
    "sample_get",
    "submission_get_visible",
    "submission_list_for_user",
    "submission_statuses",
    "submission_usage",
]
