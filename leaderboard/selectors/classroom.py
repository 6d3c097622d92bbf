"""Reads for classroom editions: who may enter, host, see; a participant's team page."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from leaderboard.metrics import PUBLIC, metric_get
from leaderboard.models import (
    RANKED_MODERATION,
    Edition,
    Membership,
    Participant,
    Submission,
    Team,
    TeamInvitation,
)

from .permissions import can_host, can_moderate
from .quota import SubmissionUsage, quota_usage


def edition_can_host(*, edition: Edition, user: AbstractBaseUser) -> bool:
    """Hosts (and staff) of the edition: ``permissions.can_host``, under its older name."""
    return can_host(user=user, edition=edition)


def edition_can_create(*, user: AbstractBaseUser) -> bool:
    """Staff, and instructors given the ``add_edition`` permission, may create editions."""
    return bool(
        user.is_authenticated and (user.is_staff or user.has_perm("leaderboard.add_edition"))
    )


def edition_admits(*, edition: Edition, user: AbstractBaseUser) -> bool:
    """May this user take part? Always, unless the edition requires its join code."""
    if not edition.join_required or can_moderate(user=user, edition=edition):
        return True
    if not user.is_authenticated:
        return False
    return (
        Participant.objects.filter(edition=edition, user=user).exists()
        or Membership.objects.filter(edition=edition, user=user).exists()
    )


def edition_get_by_join_code(*, code: str) -> Edition:
    """The edition an invite link or code points at; 404 if none (codes are case-blind)."""
    code = code.strip().upper()
    return get_object_or_404(Edition.objects.select_related("challenge"), join_code=code or "-")


def team_of_user(*, edition: Edition, user: AbstractBaseUser) -> Team | None:
    """The user's team in this edition with its members, or None."""
    if not user.is_authenticated:
        return None
    return (
        Team.objects.filter(edition=edition, memberships__user=user)
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("user").order_by("user__username"),
            )
        )
        .first()
    )


@dataclass(frozen=True)
class TeamPage:
    """Everything the team page shows to one user of one edition."""

    edition: Edition
    admitted: bool
    team: Team | None
    members: list[AbstractBaseUser]
    invitations_received: list[TeamInvitation]
    invitations_sent: list[TeamInvitation]
    entries: list[Submission]  # the team's scored, ranked entries, best public first
    moderated: list[Submission]  # entries the hosts flagged, hid or disqualified, with reasons
    n_submissions: int
    usage: SubmissionUsage

    @property
    def has_room(self) -> bool:
        return self.team is not None and len(self.members) < self.edition.max_team_size

    @property
    def finals(self) -> list[Submission]:
        return [entry for entry in self.entries if entry.is_final]

    @property
    def default_final(self) -> Submission | None:
        """What counts when the team selects nothing: its best public entry."""
        return self.entries[0] if self.entries else None

    @property
    def can_switch_team(self) -> bool:
        """A team that has submitted is kept (its quota is spent); an empty one may be left."""
        return self.team is None or self.n_submissions == 0


def team_page(*, edition: Edition, user: AbstractBaseUser) -> TeamPage:
    """The user's team, its invitations and entries; a constant number of queries."""
    team = team_of_user(edition=edition, user=user)
    received = list(
        TeamInvitation.objects.filter(
            team__edition=edition, user=user, status=TeamInvitation.Status.PENDING
        )
        .select_related("team", "invited_by")
        .annotate(n_members=Count("team__memberships"))
    )
    sent: list[TeamInvitation] = []
    entries: list[Submission] = []
    moderated: list[Submission] = []
    n_submissions = 0
    if team is not None:
        sent = list(
            team.invitations.filter(status=TeamInvitation.Status.PENDING).select_related("user")
        )
        metric = metric_get(edition.challenge.primary_metric)
        value = F(f"score__{metric.column(PUBLIC)}")  # best first, as the ranking orders
        best = value.asc(nulls_last=True) if metric.lower_is_better else value.desc(nulls_last=True)
        entries = list(
            team.submissions.filter(
                status=Submission.Status.SCORED, moderation__in=RANKED_MODERATION
            )
            .select_related("score")
            .order_by(best, "created_at", "pk")
        )
        moderated = list(team.submissions.exclude(moderation="").order_by("-moderated_at"))
        n_submissions = team.submissions.count()
    return TeamPage(
        edition=edition,
        admitted=edition_admits(edition=edition, user=user),
        team=team,
        members=[m.user for m in team.memberships.all()] if team else [],
        invitations_received=received,
        invitations_sent=sent,
        entries=entries,
        moderated=moderated,
        n_submissions=n_submissions,
        usage=quota_usage(edition=edition, team_id=team.pk if team else None),
    )


def host_teams(*, edition: Edition) -> QuerySet[Team]:
    """Every team with its members and submission counts, for the host's roster."""
    return (
        Team.objects.filter(edition=edition)
        .annotate(
            n_submissions=Count("submissions", distinct=True),
            n_scored=Count(
                "submissions",
                filter=Q(submissions__status=Submission.Status.SCORED),
                distinct=True,
            ),
        )
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("user").order_by("user__username"),
            )
        )
        .order_by("name")
    )


def host_participants_without_team(*, edition: Edition) -> QuerySet[Participant]:
    """Users who joined the edition but are in no team yet."""
    in_teams = Membership.objects.filter(edition=edition).values("user_id")
    return (
        Participant.objects.filter(edition=edition)
        .exclude(user_id__in=in_teams)
        .select_related("user")
        .order_by("user__username")
    )


def host_submissions(*, edition: Edition) -> QuerySet[Submission]:
    """The edition's participant submissions, newest first, with team, score and moderator."""
    return (
        Submission.objects.filter(edition=edition, is_baseline=False)
        .select_related("team", "score", "submitted_by", "moderated_by")
        .order_by("-created_at")
    )
