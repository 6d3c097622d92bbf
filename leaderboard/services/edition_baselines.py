"""A challenge's baselines on each of its editions: entered once, scored once per hidden set.

A new edition (a classroom's, next year's) gets every baseline model already entered on the
challenge's other editions, each as a baseline submission of its own with the same model file
(hard-linked where the storage is a local disk, else copied). Nothing is ever trained here.
When the model's score on the very set this edition is ranked on already exists (same
fingerprint, same public part, and the robustness track's results where the challenge runs it),
that score is copied, its record saying which submission it came from; otherwise the entry goes
to the scoring queue like any upload and a worker scores it on this set. An edition whose
challenge has no hidden set yet gets its baselines when the set's import is done; a baseline
that ``seed_baselines`` enters later reaches the challenge's other open editions as well.

The edition's host may switch each of them off (``Submission.hidden_by_host``): the one ranking
then leaves it off this edition's boards, charts and exports.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from leaderboard.errors import ClassroomRefused
from leaderboard.evaluation.datasets import open_dataset
from leaderboard.evaluation.formats import UnsupportedFormat, detect_format, model_io_check
from leaderboard.metrics import score_columns
from leaderboard.models import RANKED_MODERATION, Challenge, Edition, Score, Submission
from leaderboard.selectors.edition_baselines import REUSED_KEY
from leaderboard.selectors.permissions import can_host

from .enqueue import submission_enqueue

logger = logging.getLogger(__name__)
Status = Submission.Status

REUSED = "reused"
QUEUED = "queued"
SKIPPED = "skipped"


@dataclass(frozen=True)
class BaselineEntered:
    """What happened to one of the challenge's baselines on the edition."""

    method_name: str
    outcome: str  # REUSED, QUEUED or SKIPPED
    submission: Submission | None = None
    reason: str = ""  # why it was skipped


def edition_baselines_enter(*, edition: Edition) -> list[BaselineEntered]:
    """Enter on ``edition`` each baseline model of its challenge that it does not have yet.

    Nothing when the challenge has no hidden set yet (``challenge_baselines_enter`` runs once
    it has). A model whose file is gone or no longer fits the set is skipped and logged; the
    edition is never refused because of a baseline.
    """
    challenge = Challenge.objects.get(pk=edition.challenge_id)
    if not challenge.dataset_path or not challenge.dataset_fingerprint:
        return []
    entered = []
    with transaction.atomic():  # the edition's row locked: two callers enter each model once
        Edition.objects.select_for_update().filter(pk=edition.pk).get()
        have = set(
            Submission.objects.filter(edition=edition, is_baseline=True)
            .exclude(status=Status.FAILED)
            .values_list("original_name", "method_name")
        )
        for key, group in _models(challenge=challenge, excluding=edition).items():
            if key in have:
                continue
            try:
                entered.append(_enter(edition=edition, challenge=challenge, group=group))
            except (OSError, ValueError) as exc:
                logger.exception("baseline %s not entered on %s", key[1], edition)
                entered.append(
                    BaselineEntered(method_name=key[1], outcome=SKIPPED, reason=str(exc))
                )
    for row in entered:
        logger.info(
            "%s: baseline %s %s %s", edition.display_name, row.method_name, row.outcome, row.reason
        )
    return entered


def challenge_baselines_enter(*, challenge: Challenge) -> dict[Edition, list[BaselineEntered]]:
    """``edition_baselines_enter`` for each of the challenge's editions still open (a new
    hidden set has just been imported); closed editions keep their boards as they ended."""
    now = timezone.now()
    return {
        edition: edition_baselines_enter(edition=edition)
        for edition in Edition.objects.filter(challenge=challenge, closes_at__gt=now).order_by(
            "year", "opens_at", "pk"
        )
    }


def baseline_switch(*, submission: Submission, by: AbstractBaseUser, shown: bool) -> Submission:
    """Switch a baseline on or off for its edition; only its hosts may (ClassroomRefused)."""
    if not can_host(user=by, edition=submission.edition):
        raise ClassroomRefused("Only the edition's hosts switch its baselines.", code="not_host")
    if not submission.is_baseline:
        raise ClassroomRefused(
            "Only baselines are switched on or off; moderate a team's entry instead.",
            code="not_baseline",
        )
    submission.hidden_by_host = not shown
    submission.save(update_fields=["hidden_by_host"])
    return submission


def _models(*, challenge: Challenge, excluding: Edition) -> dict[tuple[str, str], list[Submission]]:
    """The challenge's distinct baseline models on its other editions (one model: one file name
    and method name), each with its entries, scored ones first by their newest score."""
    entries = (
        Submission.objects.filter(
            edition__challenge=challenge, is_baseline=True, moderation__in=RANKED_MODERATION
        )
        .exclude(edition=excluding)
        .exclude(status=Status.FAILED)
        .select_related("score")
        .order_by("method_year", "method_name", "created_at")
    )
    groups: dict[tuple[str, str], list[Submission]] = {}
    for entry in entries:
        groups.setdefault((entry.original_name, entry.method_name), []).append(entry)
    for group in groups.values():
        group.sort(key=lambda s: _score_of(s).created_at.timestamp() if _score_of(s) else 0.0)
        group.reverse()
    return groups


def _score_of(submission: Submission) -> Score | None:
    if submission.status != Status.SCORED:
        return None
    return getattr(submission, "score", None)


def _reusable(*, group: list[Submission], challenge: Challenge) -> tuple[Submission, Score | None]:
    """The entry whose score (the newest) was computed on the challenge's current set, if
    any; else the model's newest entry and None."""
    n_public = _n_public(challenge)
    for entry in group:
        score = _score_of(entry)
        if score is not None and _same_set(score=score, challenge=challenge, n_public=n_public):
            return entry, score
    return group[0], None


def _same_set(*, score: Score, challenge: Challenge, n_public: int | None) -> bool:
    """Scored on this very set: its fingerprint (pixels, labels, classes, input spec), its
    public part's size (the fingerprint does not cover the split), and the robustness track's
    results where the challenge runs the track."""
    record = score.record if isinstance(score.record, dict) else {}
    if record.get("dataset_fingerprint") != challenge.dataset_fingerprint:
        return False
    if score.n_images != challenge.n_test_images or score.public_n_images != n_public:
        return False
    return not challenge.robustness or isinstance(record.get("robustness"), dict)


def _n_public(challenge: Challenge) -> int | None:
    try:
        return int(open_dataset(challenge.dataset_dir).public_mask.sum())
    except Exception:  # an unreadable set: never reuse, the worker will say what is wrong
        logger.exception("could not read the public part of %s", challenge.slug)
        return None


def _enter(*, edition: Edition, challenge: Challenge, group: list[Submission]) -> BaselineEntered:
    source, score = _reusable(group=group, challenge=challenge)
    path = Path(source.file.path)
    if not path.is_file():
        raise ValueError(f"the model file of {source.method_name} ({source.pk}) is missing")
    model_io = source.model_io
    if score is None:
        try:  # the set may have changed since: refuse here what the worker would refuse
            fmt = detect_format(path)
            model_io = model_io_check(
                path,
                fmt=fmt,
                input_spec=challenge.input_spec,
                num_classes=challenge.num_classes,
            )
        except UnsupportedFormat as exc:
            return BaselineEntered(
                method_name=source.method_name, outcome=SKIPPED, reason=exc.message
            )
    now = timezone.now()
    submission = Submission(
        id=uuid.uuid4(),
        edition=edition,
        is_baseline=True,
        method_year=source.method_year,
        method_name=source.method_name,
        description=source.description,
        format=source.format,
        arch=source.arch,
        model_io=(model_io or "")[:300],
        original_name=source.original_name,
        size_bytes=source.size_bytes,
        created_at=now,
    )
    if score is not None:
        submission.status = Status.SCORED
        submission.started_at = submission.finished_at = now
    _share_file(submission=submission, source=source)
    try:
        with transaction.atomic():
            submission.save(force_insert=True)
            if score is None:
                transaction.on_commit(partial(submission_enqueue, submission_id=submission.id))
            else:
                _copy_score(score=score, to=submission)
    except BaseException:
        submission.file.delete(save=False)
        raise
    return BaselineEntered(
        method_name=submission.method_name,
        outcome=QUEUED if score is None else REUSED,
        submission=submission,
    )


def _share_file(*, submission: Submission, source: Submission) -> None:
    """The source's model file under the new submission's own name: a hard link (no second
    copy of the bytes) on a local disk, else a copy."""
    name = submission.file.field.generate_filename(submission, str(submission.id))
    storage = submission.file.storage
    try:
        target = Path(storage.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source.file.path, target)
    except (NotImplementedError, OSError):
        with source.file.open("rb") as fh:
            submission.file.save(str(submission.id), File(fh), save=False)
        return
    submission.file.name = name


def _copy_score(*, score: Score, to: Submission) -> Score:
    """A new score row with the same figures, its record naming the submission scored."""
    figures = {column: getattr(score, column) for column in score_columns()}
    return Score.objects.create(
        submission=to,
        n_images=score.n_images,
        public_n_images=score.public_n_images,
        private_n_images=score.private_n_images,
        record={**score.record, REUSED_KEY: str(score.submission_id)},
        **figures,
    )
