"""Teams: created by a participant, joined by code or invitation, up to the edition's size.

Every change to a team's members runs with the team row locked (``SELECT ... FOR UPDATE``), so
the size cap holds under simultaneous joins. A user is in at most one team per edition (the
database enforces it); a user may leave a team, or move to another, only while their team has
not submitted: otherwise changing team would hand out a fresh submission quota.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from leaderboard.errors import ClassroomRefused
from leaderboard.models import Edition, Membership, Team, TeamInvitation
from leaderboard.selectors.classroom import edition_admits

from .codes import code_assign
from .notifications.enqueue import notify_enqueue


def team_get_or_create_solo(*, edition: Edition, user: AbstractBaseUser) -> Team:
    """Return the user's team in this edition, creating a team of one if there is none.

    Safe under concurrent first submissions: the unique (edition, user) membership decides
    which request's team survives; the loser's team is rolled back with its savepoint.
    """
    membership = Membership.objects.select_related("team").filter(edition=edition, user=user)
    existing = membership.first()
    if existing is not None:
        return existing.team
    try:
        with transaction.atomic():
            team = Team.objects.create(edition=edition, name=user.get_username())
            Membership.objects.create(team=team, user=user, edition=edition)
    except IntegrityError:
        return membership.get().team
    _give_code(team)
    return team


def team_create(*, edition: Edition, user: AbstractBaseUser, name: str) -> Team:
    """A new team with the user as its first member (an empty team of theirs is left)."""
    name = name.strip()
    if not name:
        raise ClassroomRefused("Give the team a name.", code="team_name_required")
    _check_can_take_part(edition=edition, user=user)
    with transaction.atomic():
        if Team.objects.filter(edition=edition, name__iexact=name).exists():
            raise ClassroomRefused(
                f"A team called {name!r} already exists in this edition.", code="team_name_taken"
            )
        _leave_current_team(edition=edition, user=user)
        team = Team.objects.create(edition=edition, name=name[:150])
        Membership.objects.create(team=team, user=user, edition=edition)
        _give_code(team)
    return team


def team_join(*, edition: Edition, user: AbstractBaseUser, code: str) -> Team:
    """Join the team whose code this is, if it has room."""
    team = Team.objects.filter(edition=edition, join_code=code.strip().upper() or "-").first()
    if team is None:
        raise ClassroomRefused("No team of this edition has that code.", code="bad_team_code")
    return _add_member(team=team, user=user)


def team_invite(*, team: Team, by: AbstractBaseUser, username: str) -> TeamInvitation:
    """A member invites another user by user name; refused if that user is already in."""
    if not Membership.objects.filter(team=team, user=by).exists():
        raise ClassroomRefused("Only members may invite to a team.", code="not_a_member")
    invitee = get_user_model().objects.filter(username=username.strip()).first()
    if invitee is None:
        raise ClassroomRefused(f"There is no user called {username!r}.", code="unknown_user")
    if Membership.objects.filter(team=team, user=invitee).exists():
        raise ClassroomRefused(f"{invitee} is already in the team.", code="already_member")
    with transaction.atomic():
        locked = Team.objects.select_for_update().select_related("edition").get(pk=team.pk)
        _check_room(team=locked)
        invitation, _ = TeamInvitation.objects.get_or_create(
            team=locked,
            user=invitee,
            status=TeamInvitation.Status.PENDING,
            defaults={"invited_by": by},
        )
        notify_enqueue(event="invitation", ref=str(invitation.pk))  # mailed by a task
    return invitation


def invitation_answer(
    *,
    invitation: TeamInvitation,
    user: AbstractBaseUser,
    accept: bool,
    now: dt.datetime | None = None,
) -> TeamInvitation:
    """The invitee accepts (joins, if the team still has room) or declines."""
    if invitation.user_id != user.pk or invitation.status != TeamInvitation.Status.PENDING:
        raise ClassroomRefused("This invitation is not open for you.", code="bad_invitation")
    with transaction.atomic():
        if accept:
            _add_member(team=invitation.team, user=user)
        invitation.status = (
            TeamInvitation.Status.ACCEPTED if accept else TeamInvitation.Status.DECLINED
        )
        invitation.answered_at = now or timezone.now()
        invitation.save(update_fields=["status", "answered_at"])
    return invitation


def team_leave(*, edition: Edition, user: AbstractBaseUser) -> None:
    """Leave one's team before it has submitted; the last one out removes the team."""
    with transaction.atomic():
        if not _leave_current_team(edition=edition, user=user):
            raise ClassroomRefused("You are not in a team of this edition.", code="no_team")


def _add_member(*, team: Team, user: AbstractBaseUser) -> Team:
    _check_can_take_part(edition=team.edition, user=user)
    with transaction.atomic():
        locked = Team.objects.select_for_update().select_related("edition").get(pk=team.pk)
        if Membership.objects.filter(team=locked, user=user).exists():
            return locked
        _check_room(team=locked)
        _leave_current_team(edition=locked.edition, user=user)
        Membership.objects.create(team=locked, user=user, edition=locked.edition)
        TeamInvitation.objects.filter(
            team=locked, user=user, status=TeamInvitation.Status.PENDING
        ).update(status=TeamInvitation.Status.ACCEPTED, answered_at=timezone.now())
    return locked


def _check_can_take_part(*, edition: Edition, user: AbstractBaseUser) -> None:
    if edition.is_closed():
        raise ClassroomRefused(f"{edition.display_name} has closed.", code="edition_closed")
    if not edition_admits(edition=edition, user=user):
        raise ClassroomRefused("Join the edition with its code first.", code="join_required")


def _check_room(*, team: Team) -> None:
    size = Membership.objects.filter(team=team).count()
    if size >= team.edition.max_team_size:
        raise ClassroomRefused(
            f"{team.name} is full: teams in this edition have at most "
            f"{team.edition.max_team_size} member{'s' if team.edition.max_team_size > 1 else ''}.",
            code="team_full",
        )


def _leave_current_team(*, edition: Edition, user: AbstractBaseUser) -> bool:
    """Drop the user's membership if their team never submitted; False if they had none."""
    membership = (
        Membership.objects.select_related("team").filter(edition=edition, user=user).first()
    )
    if membership is None:
        return False
    team = Team.objects.select_for_update().get(pk=membership.team_id)
    if team.submissions.exists():
        raise ClassroomRefused(
            f"You are in {team.name}, which has already submitted; a team that has "
            "submitted keeps its members.",
            code="team_has_submitted",
        )
    membership.delete()
    if not Membership.objects.filter(team=team).exists():
        team.delete()
    return True


def _give_code(team: Team) -> None:
    def save(code: str) -> None:
        Team.objects.filter(pk=team.pk, join_code="").update(join_code=code)

    if not team.join_code:
        code_assign(save=save)
        team.refresh_from_db(fields=["join_code"])
