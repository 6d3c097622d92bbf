"""Who may host a challenge, and what a host sees of an import that a participant must not."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser

from leaderboard.models import Challenge, DatasetImport

from .permissions import can_host_challenge


def challenge_can_create(*, user: AbstractBaseUser) -> bool:
    """Staff, users given ``add_challenge``, or anyone signed in when HOSTS_SELF_SERVE is on."""
    if not user.is_authenticated:
        return False
    return bool(
        user.is_staff or user.has_perm("leaderboard.add_challenge") or settings.HOSTS_SELF_SERVE
    )


def challenge_can_host(*, challenge: Challenge, user: AbstractBaseUser) -> bool:
    """Staff, the challenge's creator, and the hosts of any of its editions."""
    return can_host_challenge(user=user, challenge=challenge)


def latest_imports(*, challenge: Challenge) -> dict[str, DatasetImport | None]:
    """The newest import of each part (test, train), or None where there was none."""
    found: dict[str, DatasetImport | None] = {part: None for part in DatasetImport.Part.values}
    for row in challenge.imports.order_by("-created_at")[:20]:
        if found.get(row.part) is None:
            found[row.part] = row
    return found


def import_progress(row: DatasetImport) -> dict:
    """The import's state as the host's page polls it (JSON)."""
    percent = round(100 * row.done / row.total, 1) if row.total else 0.0
    return {
        "id": str(row.id),
        "part": row.part,
        "status": row.status,
        "status_label": row.get_status_display(),
        "finished": row.finished,
        "done": row.done,
        "total": row.total,
        "percent": percent,
        "images_per_second": row.images_per_second,
        "error": row.error_message,
        "original_name": row.original_name,
    }
