"""A host's controls over a running edition: re-run entries, pause uploads, freeze the board.

Re-run: the submission goes back to the queue as it is (no new row, so the team's limits do not
move: ``selectors.quota``); its attempts count afresh, the sweeper watches it as any other, and
once scored its new score replaces the old one, which is kept with its dataset fingerprint
(``services.scoring.score_record``). Until then the board keeps ranking the old score. A re-run
that fails (the model now crashes, or the changed set breaks it, or the platform gives up) does
not drop the entry: it goes back to scored with the score it had, and the failure is kept in
its history (``RerunFailure``, ``rerun_failure_record``) for the team and the hosts to see.
Pause: uploads from the web form, the API and the CLI are refused until the host resumes; the
closing time stays. Freeze: from the chosen time until the close the public board shows the
standings as at that time (``selectors.ranking.board_freezes``); at the close the private
board is revealed as always.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leaderboard.errors import PLATFORM_ERROR_CODES, ClassroomRefused
from leaderboard.metrics import PRIVATE
from leaderboard.models import Edition, RerunFailure, Submission
from leaderboard.selectors.leaderboard import leaderboard_rows
from leaderboard.selectors.permissions import can_host, can_moderate

from .activity import activity_refresh
from .enqueue import submission_enqueue

logger = logging.getLogger(__name__)
Status = Submission.Status


def _check_moderator(*, edition: Edition, by: AbstractBaseUser) -> None:
    if not can_moderate(user=by, edition=edition):
        raise ClassroomRefused(
            "Only the edition's hosts and assistants may do this.", code="not_host"
        )


def _check_host(*, edition: Edition, by: AbstractBaseUser) -> None:
    if not can_host(user=by, edition=edition):
        raise ClassroomRefused("Only the edition's hosts may do this.", code="not_host")


def submissions_rerun(
    *,
    edition: Edition,
    by: AbstractBaseUser,
    submission_ids: Iterable[uuid.UUID | str] = (),
    finals: bool = False,
) -> list[str]:
    """Queue these submissions (and, with ``finals``, every final entry) to be scored again.

    Returns the ids queued. Only finished entries go: a scored one, or one whose model failed
    (a platform failure is not counted against the team and is submitted again instead); one
    already queued or running is left as it is.
    """
    _check_moderator(edition=edition, by=by)
    try:
        wanted = {uuid.UUID(str(pk)) for pk in submission_ids}
    except ValueError as exc:
        raise ClassroomRefused("Unknown submission.", code="bad_submission") from exc
    if finals:
        wanted |= final_entry_ids(edition=edition)
    if not wanted:
        raise ClassroomRefused("Choose at least one entry to re-run.", code="nothing_chosen")
    with transaction.atomic():
        rows = (
            Submission.objects.select_for_update()
            .filter(edition=edition, pk__in=wanted, status__in=(Status.SCORED, Status.FAILED))
            .exclude(status=Status.FAILED, error_code__in=PLATFORM_ERROR_CODES)
        )
        found = list(rows.values_list("pk", "created_at", "is_baseline"))
        ids = [pk for pk, _, _ in found]
        Submission.objects.filter(pk__in=ids).update(
            status=Status.QUEUED,
            attempts_before_run=F("attempts"),
            reruns=F("reruns") + 1,
            enqueued_at=None,
            started_at=None,
            finished_at=None,
            deadline=None,
            worker="",
            error_code="",
            error_message="",
        )
        # Scored entries queued again leave their days' scored counts until scored anew.
        moments = [created for _, created, baseline in found if not baseline]
        activity_refresh(edition_id=edition.pk, moments=moments)
        for pk in ids:
            transaction.on_commit(partial(submission_enqueue, submission_id=pk))
    return [str(pk) for pk in ids]


def rerun_failure_record(
    *,
    submission_id: uuid.UUID | str,
    status: str,
    attempts: int,
    error_code: str,
    error_message: str,
    now: dt.datetime,
) -> bool:
    """A host's re-run of a scored entry failed: keep its score current, record the failure.

    Only while the row is still in ``status`` at ``attempts`` (the attempt that failed holds
    it), is a re-run and has a score. The entry goes back to scored, so every board, export
    and count keeps it as it was; False when this is not such a re-run (the caller then fails
    the submission as usual).
    """
    code = (error_code or "evaluation_failed")[:50]
    with transaction.atomic():
        kept = Submission.objects.filter(
            pk=submission_id,
            status=status,
            attempts=attempts,
            reruns__gt=0,
            score__isnull=False,
        ).update(
            status=Status.SCORED,
            finished_at=now,
            deadline=None,
            error_code="",
            error_message="",
        )
        if not kept:
            return False
        row = (
            Submission.objects.filter(pk=submission_id)
            .values(
                "edition_id", "created_at", "is_baseline", "edition__challenge__dataset_fingerprint"
            )
            .get()
        )
        RerunFailure.objects.create(
            submission_id=submission_id,
            edition_id=row["edition_id"],
            attempt=attempts,
            error_code=code,
            error_message=error_message,
            dataset_fingerprint=(row["edition__challenge__dataset_fingerprint"] or "")[:128],
            failed_at=now,
        )
        if not row["is_baseline"]:  # back in its day's scored count, which the re-run left
            activity_refresh(edition_id=row["edition_id"], moments=[row["created_at"]])
    logger.warning(
        "re-run of submission %s failed (%s); its previous score stays current", submission_id, code
    )
    return True


def rerun_failures_standing(*, edition: Edition, limit: int = 50) -> list[RerunFailure]:
    """The edition's failed re-runs whose entry still holds the score from before (no re-run
    has scored it since), newest first: what the host page lists."""
    rows = (
        RerunFailure.objects.filter(
            edition=edition, failed_at__gt=F("submission__score__created_at")
        )
        .select_related("submission__team", "submission__score")
        .order_by("-failed_at", "-pk")
    )
    return list(rows[:limit])


def final_entry_ids(*, edition: Edition) -> set[uuid.UUID]:
    """What the private board ranks: each team's chosen finals, the best entry of a team that
    chose none, and the baselines."""
    metric = edition.challenge.primary_metric
    on_board = {row.pk for row in leaderboard_rows(edition=edition, phase=PRIVATE, metric=metric)}
    chosen = Submission.objects.filter(edition=edition, is_final=True).values_list("pk", flat=True)
    return on_board | set(chosen)


def edition_pause(
    *, edition: Edition, by: AbstractBaseUser, paused: bool, now: dt.datetime | None = None
) -> Edition:
    """Pause uploads (from now) or resume them; the closing time never moves. Hosts only."""
    _check_host(edition=edition, by=by)
    edition.submissions_paused_at = (now or timezone.now()) if paused else None
    edition.save(update_fields=["submissions_paused_at"])
    return edition


def edition_local_time(*, value: str, edition: Edition) -> dt.datetime:
    """``2026-12-07T14:30`` (or with a space, or with an offset) as a time: without an offset,
    in the edition's time zone. The pages' and the API's freeze time are read here."""
    try:
        naive = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ClassroomRefused(
            f"{value!r} is not a date and time; give one like 2026-12-07 14:30 "
            f"({edition.time_zone}), or with an offset (2026-12-07T14:30+01:00).",
            code="bad_time",
        ) from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=edition.tzinfo)


def edition_freeze(
    *, edition: Edition, by: AbstractBaseUser, frozen_at: dt.datetime | None
) -> Edition:
    """Freeze the public board from ``frozen_at`` until the close; None lifts the freeze.
    Hosts only."""
    _check_host(edition=edition, by=by)
    if frozen_at is not None and frozen_at >= edition.closes_at:
        closes = timezone.localtime(edition.closes_at, edition.tzinfo).strftime("%Y-%m-%d %H:%M %Z")
        raise ClassroomRefused(
            f"The freeze must start before the edition closes ({closes}).", code="freeze_late"
        )
    edition.board_frozen_at = frozen_at
    edition.save(update_fields=["board_frozen_at"])
    return edition
