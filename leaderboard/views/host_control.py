"""The host's controls on the edition's host page: re-run entries, pause uploads, freeze the
public board. Each view checks ``selectors.permissions`` (403 otherwise: re-runs for hosts and
teaching assistants, pause and freeze for hosts), calls one service and goes back to the host
page with a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from leaderboard import selectors
from leaderboard.errors import ClassroomRefused
from leaderboard.models import Edition, Submission
from leaderboard.selectors.permissions import can_host, can_moderate
from leaderboard.services import host_control


@login_required
@require_POST
def entries_rerun(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    """Re-run the checked entries (``submission``, repeated) and/or every final entry."""
    found = _moderated(request, slug=slug, edition=edition)
    try:
        queued = host_control.submissions_rerun(
            edition=found,
            by=request.user,
            submission_ids=request.POST.getlist("submission"),
            finals=request.POST.get("finals") == "1",
        )
    except ClassroomRefused as exc:
        messages.error(request, exc.message)
    else:
        if queued:
            n = len(queued)
            messages.success(
                request,
                f"{n} entr{'y' if n == 1 else 'ies'} queued to be scored again. The board keeps "
                "the current scores until the new ones are in; the old ones stay in each "
                "entry's history. Re-runs use none of the teams' submissions.",
            )
        else:
            messages.error(
                request,
                "Nothing re-run: the chosen entries are still queued or running, or failed "
                "through the platform (not counted; the team submits again).",
            )
    return redirect(_host_url(found))


@login_required
@require_POST
def submissions_pause(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    """``action=pause`` or ``action=resume``."""
    found = _hosting(request, slug=slug, edition=edition)
    action = request.POST.get("action")
    if action not in ("pause", "resume"):
        messages.error(request, "Choose pause or resume.")
        return redirect(_host_url(found))
    host_control.edition_pause(edition=found, by=request.user, paused=action == "pause")
    if action == "pause":
        messages.success(request, "Submissions paused: uploads are refused until you resume.")
    else:
        messages.success(request, "Submissions resumed.")
    return redirect(_host_url(found))


@login_required
@require_POST
def board_freeze(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    """``frozen_at`` (a local time in the edition's zone) freezes the board; ``action=lift``
    lifts the freeze."""
    found = _hosting(request, slug=slug, edition=edition)
    frozen_at = None
    try:
        if request.POST.get("action") != "lift":
            frozen_at = host_control.edition_local_time(
                value=request.POST.get("frozen_at", ""), edition=found
            )
        host_control.edition_freeze(edition=found, by=request.user, frozen_at=frozen_at)
    except ClassroomRefused as exc:
        messages.error(request, exc.message)
    else:
        if frozen_at is None:
            messages.success(request, "The public board is no longer frozen.")
        else:
            when = frozen_at.strftime("%Y-%m-%d %H:%M %Z")
            messages.success(request, f"The public board freezes at {when} until the close.")
    return redirect(_host_url(found))


def _moderated(request: HttpRequest, *, slug: str, edition: str) -> Edition:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    if not can_moderate(user=request.user, edition=found):
        raise PermissionDenied("Only the edition's hosts and assistants may do this.")
    return found


def _hosting(request: HttpRequest, *, slug: str, edition: str) -> Edition:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    if not can_host(user=request.user, edition=found):
        raise PermissionDenied("Only the edition's hosts may do this.")
    return found


def _host_url(edition: Edition) -> str:
    return reverse("edition_host", kwargs={"slug": edition.challenge.slug, "edition": edition.slug})


def host_page_context(*, edition: Edition) -> dict:
    """What the host page's control panels show (``_host_pause_freeze.html``, ``_host_rerun``)."""
    now = timezone.now()
    frozen_at = edition.board_frozen_at
    failures = host_control.rerun_failures_standing(edition=edition)
    return {
        # Failed re-runs whose entry still holds its score from before, newest first.
        "rerun_failures": failures,
        "rerun_failed_ids": {failure.submission_id for failure in failures},
        "frozen_now": edition.board_frozen_as_of(now=now) is not None,
        "freeze_value": (
            timezone.localtime(frozen_at, edition.tzinfo).strftime("%Y-%m-%dT%H:%M")
            if frozen_at
            else ""
        ),
        "freeze_default": timezone.localtime(now, edition.tzinfo).strftime("%Y-%m-%dT%H:%M"),
        "reruns_pending": Submission.objects.filter(
            edition=edition,
            reruns__gt=0,
            status__in=(Submission.Status.QUEUED, Submission.Status.RUNNING),
        ).count(),
    }
