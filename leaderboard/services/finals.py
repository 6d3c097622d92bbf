"""A team's choice of final submissions: what the private leaderboard ranks once it closes.

Up to ``edition.final_submissions`` scored entries; choosing none means the team's best public
entry counts (the leaderboard query applies that default, so nothing is written for it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from leaderboard.errors import ClassroomRefused
from leaderboard.models import RANKED_MODERATION, Membership, Submission, Team


def team_finals_select(
    *,
    team: Team,
    user: AbstractBaseUser,
    submission_ids: Iterable[uuid.UUID | str],
    now: dt.datetime | None = None,
) -> list[Submission]:
    """Make exactly these entries the team's finals (an empty choice clears them)."""
    edition = team.edition
    if edition.is_closed(now=now or timezone.now()):
        raise ClassroomRefused(
            "The edition has closed; final submissions can no longer change.",
            code="edition_closed",
        )
    if not Membership.objects.filter(team=team, user=user).exists():
        raise ClassroomRefused("Only members choose a team's finals.", code="not_a_member")
    try:
        wanted = {uuid.UUID(str(pk)) for pk in submission_ids}
    except ValueError as exc:
        raise ClassroomRefused("Unknown submission.", code="bad_final") from exc
    if len(wanted) > edition.final_submissions:
        raise ClassroomRefused(
            f"Choose at most {edition.final_submissions} final submission"
            f"{'s' if edition.final_submissions > 1 else ''}.",
            code="too_many_finals",
        )
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).get()
        chosen = list(
            Submission.objects.filter(
                team=team,
                pk__in=wanted,
                status=Submission.Status.SCORED,
                moderation__in=RANKED_MODERATION,
            )
        )
        if len(chosen) != len(wanted):
            raise ClassroomRefused(
                "Only the team's own scored entries (not hidden or disqualified) can be finals.",
                code="bad_final",
            )
        team.submissions.exclude(pk__in=wanted).filter(is_final=True).update(is_final=False)
        Submission.objects.filter(pk__in=wanted).update(is_final=True)
    return chosen
