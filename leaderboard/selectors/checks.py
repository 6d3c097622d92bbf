"""Reads for free model checks: who may see one, and its report shaped for the page and JSON.

A check is its owner's alone (and the staff's): anyone else gets a 404, as for a submission
they may not see, so a check's existence is not revealed either.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.shortcuts import get_object_or_404

from leaderboard.models import Edition, ModelCheck, SampleImage

Status = ModelCheck.Status


def model_check_get_visible(*, pk: uuid.UUID | str, user: AbstractBaseUser) -> ModelCheck:
    """The check if ``user`` ran it or is staff; Http404 otherwise."""
    checks = ModelCheck.objects.select_related("edition__challenge", "user")
    if not getattr(user, "is_staff", False):
        checks = checks.filter(user_id=getattr(user, "pk", None))
    return get_object_or_404(checks, pk=pk)


def model_check_possible(*, edition: Edition) -> bool:
    """A check needs the challenge's public sample images to run on."""
    return SampleImage.objects.filter(challenge_id=edition.challenge_id).exists()


@dataclass
class CheckPage:
    """What ``model_check.html`` renders; the report's fields are None until the check is done."""

    status: str
    status_display: str
    finished: bool
    badge: str  # the status-badge class: queued, running, scored (would score) or failed
    verdict: str
    ok: bool | None = None
    report: dict = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)
    ms_per_image: float | None = None


def model_check_page(*, check: ModelCheck) -> CheckPage:
    """The check's state and report as the result page shows them."""
    report = check.report or {}
    done = check.status == Status.DONE and bool(report)
    ok = bool(report.get("ok")) if done else None
    seconds = report.get("seconds_per_image")
    return CheckPage(
        status=check.status,
        status_display=check.get_status_display(),
        finished=check.finished,
        badge=_badge(check.status, ok),
        verdict=_verdict(check, ok),
        ok=ok,
        report=report,
        samples=_samples(report) if done else [],
        ms_per_image=None if seconds is None else 1000.0 * seconds,
    )


def model_check_status(*, check: ModelCheck) -> dict:
    """The small JSON the result page polls until the check is finished."""
    page = model_check_page(check=check)
    return {
        "id": str(check.pk),
        "status": check.status,
        "status_display": page.status_display,
        "finished": page.finished,
        "ok": page.ok,
        "verdict": page.verdict,
    }


def _badge(status: str, ok: bool | None) -> str:
    if status == Status.DONE:
        return "scored" if ok else "failed"
    return status


def _verdict(check: ModelCheck, ok: bool | None) -> str:
    if check.status == Status.QUEUED:
        return "Waiting for a worker."
    if check.status == Status.RUNNING:
        return "Running your model on the sample images."
    if check.status == Status.FAILED:
        return "The platform could not check the model; it costs you nothing."
    if ok:
        return "A submission of this file would be scored: it loads and gives one score per class."
    return "A submission of this file would fail, with the error below."


def _samples(report: dict) -> list[dict]:
    """Each sample with its image's id, its true class and the top guesses as percentages."""
    ids = report.get("sample_ids") or []
    shown = []
    for i, sample in enumerate(report.get("samples") or []):
        label = sample["label"]
        guesses = [
            {"name": g["name"], "pct": 100.0 * g["prob"], "is_true": g["class"] == label}
            for g in sample.get("guesses") or []
        ]
        true_prob = sample.get("true_prob")
        shown.append(
            {
                "sample_id": ids[i] if i < len(ids) else None,
                "label_name": sample["label_name"],
                "guesses": guesses,
                "in_top": any(g["is_true"] for g in guesses),
                "true_rank": sample.get("true_rank"),
                "true_pct": None if true_prob is None else 100.0 * true_prob,
            }
        )
    return shown
