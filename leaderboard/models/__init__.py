"""The site's tables, one module per job, re-exported here: import models from this package.

Django finds the models of the app ``leaderboard`` by importing this package, so every model
class must be imported below.
"""

from leaderboard.metrics import Metric

from .activity import ActivityDay, ActivitySummary, day_totals
from .challenges import (
    Challenge,
    Edition,
    Precision,
    ReferenceResult,
    SampleImage,
    validate_time_zone,
)
from .challenges import _sample_upload_to as _sample_upload_to  # named by migration 0001
from .fleet import ScoringShard, WorkerHeartbeat
from .grading import GradingRule
from .hosting import DatasetImport, ModelCheck
from .hosting import _check_upload_to as _check_upload_to  # named by its migration
from .notifications import Announcement, EditionNotice, Notification, NotificationPreference
from .people import EditionRole, RosterEntry
from .reruns import RerunFailure
from .robustness import RobustnessRun
from .submissions import (
    RANKED_MODERATION,
    SCORE_SHARED_COLUMNS,
    Score,
    Submission,
    SupersededScore,
)
from .submissions import _submission_upload_to as _submission_upload_to  # named by 0001
from .teams import Membership, Participant, Team, TeamInvitation
from .tokens import ApiToken

__all__ = [
    "RANKED_MODERATION",
    "SCORE_SHARED_COLUMNS",
    "ActivityDay",
    "ActivitySummary",
    "Announcement",
    "ApiToken",
    "Challenge",
    "DatasetImport",
    "Edition",
    "EditionNotice",
    "EditionRole",
    "GradingRule",
    "Membership",
    "Metric",
    "ModelCheck",  # the registry's enum, imported from here by older callers
    "Notification",
    "NotificationPreference",
    "Participant",
    "Precision",
    "ReferenceResult",
    "RerunFailure",
    "RobustnessRun",
    "RosterEntry",
    "SampleImage",
    "Score",
    "ScoringShard",
    "Submission",
    "SupersededScore",
    "Team",
    "TeamInvitation",
    "WorkerHeartbeat",
    "day_totals",
    "validate_time_zone",
]
