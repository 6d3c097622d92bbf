"""The baselines entered on an edition, as its host sees them (switched off ones included)."""

from __future__ import annotations

from leaderboard.models import Edition, Submission

REUSED_KEY = "reused_from"  # written by services.edition_baselines into a copied score's record


def edition_baselines(*, edition: Edition) -> list[Submission]:
    """Every baseline entry of ``edition`` but failed ones, by paper year then name; each has
    ``reused_from`` (the id of the submission whose score was copied, or "")."""
    rows = list(
        Submission.objects.filter(edition=edition, is_baseline=True)
        .exclude(status=Submission.Status.FAILED)
        .select_related("score")
        .order_by("method_year", "method_name", "created_at")
    )
    for row in rows:
        score = getattr(row, "score", None) if row.status == Submission.Status.SCORED else None
        record = score.record if score is not None and isinstance(score.record, dict) else {}
        row.reused_from = str(record.get(REUSED_KEY) or "")
    return rows
