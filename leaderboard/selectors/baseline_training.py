"""What the board says while the baselines are on their way: training, then scoring.

Without it a first start shows only "No scored submissions yet." while the networks train and
the worker scores them; with it, which network is at which epoch and how long is left, then
how many baseline entries the worker still has to score.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from leaderboard.baseline_progress import NetworkProgress, progress_read
from leaderboard.models import Challenge, Edition, Submission

PENDING = (Submission.Status.QUEUED, Submission.Status.RUNNING)


@dataclass(frozen=True)
class BaselineNotice:
    edition: Edition
    training: list[NetworkProgress]
    scoring: int  # baseline entries queued or running

    def __bool__(self) -> bool:
        return bool(self.training or self.scoring)


def baseline_notice(*, edition: Edition) -> BaselineNotice:
    """The edition's networks in training (fresh progress records) and baselines being scored."""
    scoring = Submission.objects.filter(
        edition=edition, is_baseline=True, status__in=PENDING
    ).count()
    return BaselineNotice(
        edition=edition, training=progress_read(edition_id=edition.pk), scoring=scoring
    )


def challenge_baseline_notice(*, challenge: Challenge) -> BaselineNotice | None:
    """The notice of the challenge's latest edition with something to say, if any. Two queries
    (the editions, then every edition's pending baselines counted at once), however many."""
    editions = list(challenge.editions.order_by("-year", "-opens_at"))
    pending = dict(
        Submission.objects.filter(
            edition__challenge=challenge, is_baseline=True, status__in=PENDING
        )
        .values("edition_id")
        .annotate(n=Count("id"))
        .values_list("edition_id", "n")
    )
    for edition in editions:
        notice = BaselineNotice(
            edition=edition,
            training=progress_read(edition_id=edition.pk),
            scoring=pending.get(edition.pk, 0),
        )
        if notice:
            return notice
    return None
