"""Who may do what in an edition: the one rule, read by every page, service and the API.

- A *host* does everything: settings, people (roles and roster), grading rule, pause and freeze,
  baselines, announcements, and all a teaching assistant does.
- A *teaching assistant* sees every submission and its result, the host page and the grades,
  moderates entries and re-runs them; they change no setting and nobody's role.
- Staff host every edition. ``Edition.host`` (who created it) hosts it while it is set; a host
  who is removed or made an assistant stops being it (``services.people``).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from leaderboard.models import Challenge, Edition, EditionRole

HOST = EditionRole.Role.HOST
TA = EditionRole.Role.TA


def edition_role(*, user: AbstractBaseUser, edition: Edition) -> str | None:
    """``"host"``, ``"ta"`` or None: the user's part in running this edition."""
    if not user.is_authenticated:
        return None
    if user.is_staff or edition.host_id == user.pk:
        return HOST
    rows = EditionRole.objects.filter(edition=edition, user=user)
    return rows.values_list("role", flat=True).first()


def can_host(*, user: AbstractBaseUser, edition: Edition) -> bool:
    """Settings, people, grading rule, pause and freeze, baselines, announcements."""
    return edition_role(user=user, edition=edition) == HOST


def can_moderate(*, user: AbstractBaseUser, edition: Edition) -> bool:
    """The host page, moderation and re-runs, exports and the grades' preview: hosts and TAs."""
    return edition_role(user=user, edition=edition) in (HOST, TA)


def can_see_all_submissions(*, user: AbstractBaseUser, edition: Edition) -> bool:
    """Every team's submission pages and results (what the edition shows now)."""
    return can_moderate(user=user, edition=edition)


def challenge_hosts_ids(*, challenge: Challenge) -> set[int]:
    """Users who host the challenge: its creator and the hosts of any of its editions (staff
    are implicit). They become hosts of its new editions."""
    ids = set(
        EditionRole.objects.filter(
            edition__challenge=challenge, role=HOST, user__isnull=False
        ).values_list("user_id", flat=True)
    )
    ids |= set(challenge.editions.filter(host__isnull=False).values_list("host_id", flat=True))
    if challenge.created_by_id is not None:
        ids.add(challenge.created_by_id)
    return ids


def can_host_challenge(*, user: AbstractBaseUser, challenge: Challenge) -> bool:
    """Staff, the challenge's creator, and the hosts of any of its editions."""
    if not user.is_authenticated:
        return False
    return bool(user.is_staff or user.pk in challenge_hosts_ids(challenge=challenge))
