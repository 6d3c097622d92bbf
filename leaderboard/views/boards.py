"""What the challenge page and an edition's leaderboard page show beyond their own row:
the year-by-year history, the charts, the viewer's team and limits. Read-only."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.utils import timezone

from leaderboard import charts, selectors
from leaderboard.models import Challenge, Edition


def history_context(*, challenge: Challenge) -> dict:
    """The year-by-year table and the error-rate history chart (four queries)."""
    now = timezone.now()
    history = selectors.challenge_history(challenge=challenge, now=now)
    points = selectors.challenge_history_points(challenge=challenge, now=now)
    return {
        "history": history,
        "history_chart": charts.history_chart(history=history, points=points),
    }


def leaderboard_context(*, request: HttpRequest, edition: Edition) -> dict:
    """The board in its phase (``?board=public`` after closing shows the public one), the
    viewer's team and submissions left, the countdown and the edition's charts."""
    now = timezone.now()
    closed = edition.is_closed(now=now)
    phase = "public" if closed and request.GET.get("board") == "public" else None
    board = selectors.edition_leaderboard(
        edition=edition, now=now, phase=phase, page=_page_number(request)
    )
    if board.page > 1 and not board.rows:
        raise Http404("No such page of the leaderboard.")
    user = request.user
    team = selectors.team_of_user(edition=edition, user=user)
    days = selectors.edition_daily(edition=edition)
    efficiency = selectors.edition_efficiency(edition=edition, now=now)
    return {
        "board": board,
        "edition": edition,
        "closed": closed,
        "not_open_yet": now < edition.opens_at,
        "countdown_to": edition.opens_at if now < edition.opens_at else edition.closes_at,
        "team": team,
        "usage": selectors.quota_usage(edition=edition, team_id=team.pk) if team else None,
        "admitted": selectors.edition_admits(edition=edition, user=user),
        "can_host": selectors.edition_can_host(edition=edition, user=user),
        "charts": [
            charts.progress_chart(edition=edition, days=days),
            charts.activity_chart(edition=edition, days=days),
            charts.efficiency_chart(edition=edition, points=efficiency, x_field="params"),
            charts.efficiency_chart(edition=edition, points=efficiency, x_field="throughput"),
        ],
    }


def _page_number(request: HttpRequest) -> int:
    """``?page=N`` (from 1); anything else is the first page."""
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1
