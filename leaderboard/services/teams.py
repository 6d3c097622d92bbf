"""Teams: a participant without one gets a team of one on first submission."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from leaderboard.models import Edition, Membership, Team


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
            return team
    except IntegrityError:
        return membership.get().team
