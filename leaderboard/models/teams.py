"""Who competes in an edition: participants, teams, their members and invitations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .challenges import Edition


class Team(models.Model):
    """Users competing together in one edition; a solo student is a team of one."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=150)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )
    # Given to teammates: whoever enters it joins, while the team has room.
    join_code = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["edition", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["join_code"],
                condition=~models.Q(join_code=""),
                name="team_unique_join_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in a team; at most one team per user and edition."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # Copied from the team so the database can enforce one team per user and edition.
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["edition", "user"], name="membership_one_team"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class Participant(models.Model):
    """A user admitted to an edition (with its code when one is required)."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["edition", "joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "user"], name="participant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.edition}"


class TeamInvitation(models.Model):
    """A member asks another user to join the team; the invitee accepts or declines."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"],
                condition=models.Q(status="pending"),
                name="invitation_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} to {self.team} ({self.status})"
