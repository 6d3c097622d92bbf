"""The robustness track's pages: an edition's robustness leaderboard and the sample strip."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from leaderboard import charts, selectors
from leaderboard.models import Challenge, Submission
from leaderboard.selectors.ranking import board_freezes
from leaderboard.selectors.robustness import robustness_board
from leaderboard.selectors.robustness_panel import (
    robustness_run_of,
    robustness_runs_waiting,
    submission_robustness,
)


@require_GET
def edition_robustness(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    """Ranked by the mean corruption error; ``?board=public`` after closing, as on the
    leaderboard; ``?page=N`` in pages of 100 rows."""
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    now = timezone.now()
    phase = selectors.board_phase(edition=found, now=now, asked=request.GET.get("board"))
    board = robustness_board(edition=found, now=now, phase=phase, page=_page_number(request))
    if board.page > 1 and not board.rows:
        raise Http404("No such page of the robustness leaderboard.")
    # A public board the host froze: the same rule (``board_freezes``) and banner as the
    # leaderboard's.
    frozen_at = board_freezes(editions=[found], parts={found.pk: phase}, now=now).get(found.pk)
    context = {
        "edition": found,
        "board": board,
        "closed": found.is_closed(now=now),
        "frozen": {"frozen_at": frozen_at},
        "measuring": robustness_runs_waiting(edition=found),
    }
    return render(request, "leaderboard/robustness_board.html", context)


@require_GET
def robustness_sample(request: HttpRequest, slug: str, name: str) -> FileResponse:
    """A public training-split sample under one transform (rendered when the track was set up)."""
    challenge = get_object_or_404(Challenge.objects.only("robustness_samples"), slug=slug)
    path = ((challenge.robustness_samples or {}).get("images") or {}).get(name)
    if not path or not default_storage.exists(path):
        raise Http404("No such sample image.")
    response = FileResponse(default_storage.open(path, "rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def robustness_context(*, submission: Submission, record: dict, show_private: bool) -> dict:
    """The submission page's robustness panel and its chart (None when not scored for it);
    without them, the track's run of this score if it has one: waiting, or why it failed."""
    challenge = submission.edition.challenge
    panel = submission_robustness(record=record, challenge=challenge, show_private=show_private)
    chart = None
    run = None
    if panel is not None:
        filename = f"{challenge.slug}-{submission.pk}-robustness"
        chart = charts.robustness_chart(panel=panel, filename=filename)
    elif submission.status == Submission.Status.SCORED:
        run = robustness_run_of(submission=submission)
    return {
        "robustness": panel,
        "robustness_chart": chart,
        "robustness_run": run,
        "robustness_waiting": run is not None and run.waiting,
    }


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1
