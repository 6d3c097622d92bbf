"""Read-only pages: challenges, leaderboards, charts, a submission's result, sample images."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leaderboard import selectors
from leaderboard.metrics import METRICS, metrics_shown
from leaderboard.selectors.insights import insights_pending, submission_insights
from leaderboard.selectors.kit import challenge_kit
from leaderboard.selectors.records import record_rows
from leaderboard.selectors.score_history import submission_score_history
from leaderboard.views import boards, robustness


@require_GET
def challenge_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "leaderboard/challenge_list.html", {"challenges": selectors.challenge_list()}
    )


@require_GET
def challenge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = selectors.challenge_get(slug=slug)
    kit = challenge_kit(
        challenge=challenge, user=request.user, server=request.build_absolute_uri("/")
    )
    context = {"challenge": challenge, "kit": kit, **boards.history_context(challenge=challenge)}
    return render(request, "leaderboard/challenge_detail.html", context)


@require_GET
def sample_image(request: HttpRequest, slug: str, sample_id: int) -> FileResponse:
    """Sample PNGs are public; served here so they work without a separate media server."""
    sample = selectors.sample_get(challenge_slug=slug, sample_id=sample_id)
    response = FileResponse(sample.image.open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def edition_leaderboard(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    context = boards.leaderboard_context(request=request, edition=found)
    return render(request, "leaderboard/leaderboard.html", context)


@require_GET
def edition_charts(request: HttpRequest, slug: str, edition: str) -> HttpResponse:
    """The edition's charts, apart from the leaderboard so that the ranking page stays fast."""
    found = selectors.edition_get(challenge_slug=slug, edition_slug=edition)
    return render(request, "leaderboard/edition_charts.html", boards.charts_context(edition=found))


@login_required
@require_GET
def my_submissions(request: HttpRequest) -> HttpResponse:
    submissions = selectors.submission_list_for_user(user=request.user)
    # Each metric every score has or will have (a track's, such as the robust error, has a
    # board of its own), on the part its edition shows now.
    metrics = [m for m in METRICS if not m.track]
    context = {"submissions": submissions, "metrics": metrics}
    return render(request, "leaderboard/my_submissions.html", context)


@login_required
@require_GET
def submission_statuses(request: HttpRequest) -> JsonResponse:
    """Polled by my_submissions.js: ``?ids=<uuid>,<uuid>`` -> their current statuses."""
    ids = [part for part in request.GET.get("ids", "").split(",") if part]
    rows = selectors.submission_statuses(user=request.user, ids=ids)
    return JsonResponse({"submissions": rows})


@require_GET
def submission_status(request: HttpRequest, pk: uuid.UUID) -> JsonResponse:
    """Polled by submission_status.js on a submission's page, under the page's visibility."""
    return JsonResponse(selectors.submission_status(pk=pk, user=request.user))


@require_GET
def submission_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The full result, under the visibility rule the API applies too (``selectors.visibility``):
    private-part numbers only once the edition has closed."""
    submission = selectors.submission_get_visible(pk=pk, user=request.user)
    shown = selectors.submission_shown(submission=submission)
    record = shown.score.record if shown.score else {}
    challenge = submission.edition.challenge
    context = {
        "submission": submission,
        "score": shown.score,
        "show_private": shown.show_private,
        "parts": shown.scores,
        "metrics": metrics_shown(challenge=challenge, first=challenge.primary_metric),
        "insights": submission_insights(
            record=record, class_names=challenge.class_names, show_private=shown.show_private
        ),
        "insights_pending": insights_pending(score=shown.score, challenge=challenge),
        "record_rows": record_rows(record=record),
        "score_history": submission_score_history(submission=submission),
        "history_part": shown.phase,
        "versions": sorted((record.get("versions") or {}).items()),
        **robustness.robustness_context(
            submission=submission, record=record, show_private=shown.show_private
        ),
    }
    return render(request, "leaderboard/submission_detail.html", context)
