"""What a viewer may see of a submission: one rule, for the site's pages and the API alike.

Who: a submission is seen by its team's members, by its edition's hosts and teaching assistants
(``permissions.can_see_all_submissions``) and by staff; a baseline by everyone. To anyone else
it does not exist (404, never 403: another team's id tells nothing).

What: the parts of the hidden set that its edition shows now (``ranking.edition_phase``). While
the edition runs, the public part only: its metrics, its per-class accuracy and confusion matrix,
its robustness figures. Once the edition has closed, the private part and the whole set too. The
rule is the same for staff (the private part stays secret until the close), and for the
headline numbers of lists and of the API (the part that ranks the edition now).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404

from leaderboard.metrics import ALL, METRICS, PRIVATE, PUBLIC
from leaderboard.models import Membership, Score, Submission

from .permissions import can_see_all_submissions
from .ranking import edition_phase

PART_LABELS = {PUBLIC: "Public", PRIVATE: "Private", ALL: "All"}


@dataclass(frozen=True)
class PartScore:
    """One part's numbers, as shown: each registered metric's value (None where absent)."""

    part: str  # PUBLIC, PRIVATE or ALL
    n_images: int
    values: dict[str, float | None]  # metric key -> value

    @property
    def label(self) -> str:
        return PART_LABELS[self.part]


@dataclass(frozen=True)
class Shown:
    """What of one submission its viewers see now."""

    phase: str  # the part that ranks its edition now: its headline numbers
    parts: tuple[str, ...]  # (PUBLIC,) while the edition runs; then PUBLIC, PRIVATE, ALL
    score: Score | None  # None until it is scored

    @property
    def show_private(self) -> bool:
        return PRIVATE in self.parts

    @property
    def record_prefix(self) -> str:
        """The record keeps per-class figures for the whole set and, prefixed, the public part."""
        return "" if self.show_private else "public_"

    @property
    def scores(self) -> list[PartScore]:
        if self.score is None:
            return []
        score = self.score
        return [
            PartScore(
                part=part,
                n_images=score.n_images if part == ALL else getattr(score, f"{part}_n_images"),
                values={m.key: getattr(score, m.column(part)) for m in METRICS},
            )
            for part in self.parts
        ]

    @property
    def errors(self) -> dict[str, object]:
        """The headline: the phase and every metric on it (all None until scored)."""
        score = self.score
        return {
            "phase": self.phase if score is not None else None,
            **{
                m.field: getattr(score, m.column(self.phase)) if score is not None else None
                for m in METRICS
            },
        }


def submission_shown(*, submission: Submission, now: dt.datetime | None = None) -> Shown:
    """The parts of ``submission``'s result shown now (to whoever may see it at all)."""
    phase = edition_phase(edition=submission.edition, now=now)
    scored = submission.status == Submission.Status.SCORED
    return Shown(
        phase=phase,
        parts=(PUBLIC,) if phase == PUBLIC else (PUBLIC, PRIVATE, ALL),
        score=getattr(submission, "score", None) if scored else None,
    )


def submission_get_visible(*, pk: uuid.UUID, user: AbstractBaseUser) -> Submission:
    """A submission its team members, its edition's hosts and assistants, and staff may see;
    baselines are public. 404 otherwise."""
    submission = (
        Submission.objects.select_related("edition__challenge", "team", "score", "submitted_by")
        .filter(pk=pk)
        .first()
    )
    if submission is None:
        raise Http404("No such submission.")
    if can_see_all_submissions(user=user, edition=submission.edition):
        return submission
    mine: set[int] = set()
    if user.is_authenticated and not (submission.is_baseline or user.is_staff):
        rows = Membership.objects.filter(team_id=submission.team_id, user=user)
        mine = set(rows.values_list("team_id", flat=True))
    if submission_visible(submission=submission, user=user, team_ids=mine):
        return submission
    raise Http404("No such submission.")


def submission_visible(
    *, submission: Submission, user: AbstractBaseUser, team_ids: Collection[int]
) -> bool:
    """Who may see a submission: everyone a baseline, staff all, members (of ``team_ids``, the
    viewer's teams) their team's."""
    return submission.is_baseline or user.is_staff or submission.team_id in team_ids


def submissions_visible(
    *, submissions: Iterable[Submission], user: AbstractBaseUser, team_ids: Collection[int]
) -> set[uuid.UUID]:
    """The ids among ``submissions`` (a board's rows) whose pages ``user`` may open."""
    sees_all: dict[int, bool] = {}  # per edition: its hosts and assistants open every row
    shown = set()
    for s in submissions:
        if s.edition_id not in sees_all:
            sees_all[s.edition_id] = user.is_authenticated and can_see_all_submissions(
                user=user, edition=s.edition
            )
        if sees_all[s.edition_id] or submission_visible(submission=s, user=user, team_ids=team_ids):
            shown.add(s.pk)
    return shown
