"""What the challenge page, an edition's leaderboard page and its charts page show beyond their
own row: the year-by-year history, the viewer's team and limits, the charts. Read-only."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import timezone

from leaderboard import charts, selectors
from leaderboard.models import Challenge, Edition
from leaderboard.selectors.baseline_zoo import baseline_facts, challenge_baseline_zoo
from leaderboard.selectors.permissions import can_moderate
from leaderboard.selectors.score_history import team_scores_after_freeze


def history_context(*, challenge: Challenge) -> dict:
    """The year-by-year table, the error-rate history chart and the baselines table (six
    queries: the cloud reuses the history's ranking; the baselines are one)."""
    now = timezone.now()
    zoo = challenge_baseline_zoo(
        challenge=challenge, cache_root=Path(settings.VAR_DIR) / "baselines", now=now
    )
    history = selectors.challenge_history(challenge=challenge, now=now)
    points = selectors.challenge_history_points(
        challenge=challenge,
        parts=history.parts,
        frozen=history.frozen,
        editions=history.editions,
        boards=history.boards,
    )
    return {
        "history": history,
        "history_chart": charts.history_chart(
            history=history, points=points, baseline_facts=baseline_facts(zoo)
        ),
        "zoo": zoo,
    }


def leaderboard_context(*, request: HttpRequest, edition: Edition) -> dict:
    """The board in its phase (``?board=public`` after closing shows the public one), the
    viewer's team and submissions left, the countdown. The charts have a page of their own
    (``charts_context``): this one costs the ranking's query and no more."""
    now = timezone.now()
    closed = edition.is_closed(now=now)
    phase = selectors.board_phase(edition=edition, now=now, asked=request.GET.get("board"))
    board = selectors.edition_leaderboard(
        edition=edition, now=now, phase=phase, page=_page_number(request)
    )
    if board.page > 1 and not board.rows:
        raise Http404("No such page of the leaderboard.")
    user = request.user
    team = selectors.team_of_user(edition=edition, user=user)
    return {
        "board": board,
        "edition": edition,
        "closed": closed,
        "not_open_yet": now < edition.opens_at,
        "countdown_to": edition.opens_at if now < edition.opens_at else edition.closes_at,
        "team": team,
        "usage": selectors.quota_usage(edition=edition, team_id=team.pk) if team else None,
        # The rows whose pages the viewer may open: baselines, its own team's entries.
        "linked": selectors.submissions_visible(
            submissions=board.rows, user=user, team_ids={team.pk} if team else set()
        ),
        "admitted": selectors.edition_admits(edition=edition, user=user),
        "can_host": can_moderate(user=user, edition=edition),
        # A frozen public board: the team's own scores since the freeze, marked as such.
        "after_freeze": team_scores_after_freeze(edition=edition, team=team, now=now)
        if board.frozen_at
        else None,
    }


def charts_context(*, edition: Edition) -> dict:
    """The edition's four charts, from three queries whose results are bounded by the number
    of days and of teams, not of submissions: per-day figures, each team's best entry."""
    now = timezone.now()
    phase = selectors.edition_phase(edition=edition, now=now)
    days = selectors.edition_daily(edition=edition, now=now)
    points = selectors.edition_efficiency(edition=edition, now=now)
    return {
        "edition": edition,
        "phase": phase,
        "charts": [
            charts.progress_chart(edition=edition, days=days),
            charts.activity_chart(edition=edition, days=days),
            *(
                charts.efficiency_chart(edition=edition, points=points, x_field=x, phase=phase)
                for x in ("params", "throughput")
            ),
        ],
    }


def _page_number(request: HttpRequest) -> int:
    """``?page=N`` (from 1); anything else is the first page."""
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1
