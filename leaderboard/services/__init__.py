"""Every write the site makes: one small module per job, re-exported here.

Views, tasks and management commands call these functions and nothing else that writes.
"""

from .activity import activity_rebuild, activity_refresh
from .challenges import (
    challenge_get_or_create,
    challenge_import_dataset,
    challenge_sample_add,
    challenge_samples_from_training,
    edition_get_or_create,
)
from .checks import (
    model_check_create,
    model_check_enqueue,
    model_check_fail,
    model_check_file_delete,
    model_check_finish,
    model_check_start,
    model_checks_used,
)
from .datasets import challenge_import_training, dataset_summary
from .edition_baselines import baseline_switch, challenge_baselines_enter, edition_baselines_enter
from .editions import edition_create, edition_join, edition_join_code_renew, edition_update
from .enqueue import submission_enqueue
from .finals import team_finals_select
from .hosting import challenge_create_hosted, dataset_upload, import_enqueue
from .kit import KitExample, kit_example_prepare
from .moderation import submission_moderate
from .notifications import (
    announcement_create,
    edition_notices_create,
    mail_enqueue,
    notification_mail_failed,
    notification_mail_send,
    notifications_create,
    notifications_mark_read,
    preferences_save,
    unsubscribe_apply,
)
from .references import (
    ReferenceCSVError,
    ilsvrc_history_rows,
    reference_results_import,
    reference_results_import_ilsvrc,
    reference_results_set,
)
from .scoring import (
    ScoringJob,
    score_record,
    submission_fail_exhausted,
    submission_release,
    submission_start,
)
from .submissions import baseline_submission_create, submission_create
from .sweep import SweepReport, submission_sweep
from .teams import (
    invitation_answer,
    team_create,
    team_get_or_create_solo,
    team_invite,
    team_join,
    team_leave,
)

__all__ = [
    "KitExample",
    "ReferenceCSVError",
    "ScoringJob",
    "SweepReport",
    "activity_rebuild",
    "activity_refresh",
    "announcement_create",
    "baseline_submission_create",
    "baseline_switch",
    "challenge_baselines_enter",
    "challenge_create_hosted",
    "challenge_get_or_create",
    "challenge_import_dataset",
    "challenge_import_training",
    "challenge_sample_add",
    "challenge_samples_from_training",
    "dataset_summary",
    "dataset_upload",
    "edition_baselines_enter",
    "edition_create",
    "edition_get_or_create",
    "edition_join",
    "edition_join_code_renew",
    "edition_notices_create",
    "edition_update",
    "ilsvrc_history_rows",
    "import_enqueue",
    "invitation_answer",
    "kit_example_prepare",
    "mail_enqueue",
    "model_check_create",
    "model_check_enqueue",
    "model_check_fail",
    "model_check_file_delete",
    "model_check_finish",
    "model_check_start",
    "model_checks_used",
    "notification_mail_failed",
    "notification_mail_send",
    "notifications_create",
    "notifications_mark_read",
    "preferences_save",
    "reference_results_import",
    "reference_results_import_ilsvrc",
    "reference_results_set",
    "score_record",
    "submission_create",
    "submission_enqueue",
    "submission_fail_exhausted",
    "submission_moderate",
    "submission_release",
    "submission_start",
    "submission_sweep",
    "team_create",
    "team_finals_select",
    "team_get_or_create_solo",
    "team_invite",
    "team_join",
    "team_leave",
    "unsubscribe_apply",
]
