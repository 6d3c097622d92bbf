"""A submission's failed re-runs for its page (``_score_history.html``): no query unless a
host re-ran it."""

from __future__ import annotations

from django import template

from leaderboard.models import RerunFailure, Submission

register = template.Library()


@register.filter
def rerun_failures(submission: Submission) -> list[RerunFailure]:
    """Newest first; empty (and no query) for a submission never re-run."""
    if not submission.reruns:
        return []
    return list(submission.rerun_failures.order_by("-failed_at", "-pk"))
