"""Every read the views need, one module per subject, re-exported here."""

from .challenges import challenge_get, challenge_list, edition_get, sample_get
from .charts import edition_daily, edition_efficiency
from .classroom import (
    TeamPage,
    edition_admits,
    edition_can_create,
    edition_can_host,
    edition_get_by_join_code,
    host_participants_without_team,
    host_submissions,
    host_teams,
    team_of_user,
    team_page,
)
from .history import History, challenge_history, challenge_history_points
from .leaderboard import Leaderboard, edition_leaderboard, leaderboard_rows
from .quota import quota_usage
from .ranking import board_phase, edition_phase
from .submissions import (
    SubmissionUsage,
    submission_list_for_user,
    submission_status,
    submission_statuses,
    submission_usage,
)
from .visibility import (
    Shown,
    submission_get_visible,
    submission_shown,
    submissions_visible,
)

__all__ = [
    "History",
    "Leaderboard",
    "Shown",
    "SubmissionUsage",
    "TeamPage",
    "board_phase",
    "challenge_get",
    "challenge_history",
    "challenge_history_points",
    "challenge_list",
    "edition_admits",
    "edition_can_create",
    "edition_can_host",
    "edition_daily",
    "edition_efficiency",
    "edition_get",
    "edition_get_by_join_code",
    "edition_leaderboard",
    "edition_phase",
    "host_participants_without_team",
    "host_submissions",
    "host_teams",
    "leaderboard_rows",
    "quota_usage",
    "sample_get",
    "submission_get_visible",
    "submission_list_for_user",
    "submission_shown",
    "submission_status",
    "submission_statuses",
    "submission_usage",
    "submissions_visible",
    "team_of_user",
    "team_page",
]
