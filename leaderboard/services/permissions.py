"""Who may run an edition's host controls: the one rule, so that new roles are added here."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from leaderboard.models import Edition
from leaderboard.selectors.classroom import edition_can_host


def can_moderate(*, user: AbstractBaseUser, edition: Edition) -> bool:
    """Re-run entries, pause submissions, freeze the public board: the edition's host and staff."""
    return edition_can_host(edition=edition, user=user)
