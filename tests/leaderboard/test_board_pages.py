"""The leaderboard in pages: positions and totals over the whole board, the same queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from leaderboard import selectors
from leaderboard.selectors.leaderboard import PAGE_SIZE

from .factories import make_edition, make_scored, make_team

pytestmark = pytest.mark.django_db
TEAMS = PAGE_SIZE + 20


@pytest.fixture
def big_edition(challenge):
    edition = make_edition(challenge=challenge)
    start = timezone.now() - dt.timedelta(days=1)
    for i in range(TEAMS):
        team = make_team(edition=edition, name=f"team{i:03d}")
        error = (TEAMS - i) / (2 * TEAMS)  # team0 worst, the last team best
        make_scored(edition=edition, team=team, top1=error, top5=error / 2, created_at=start)
    make_scored(edition=edition, team=None, baseline=True, top1=0.3, top5=0.1, created_at=start)
    return edition


def test_a_page_is_a_slice_of_the_whole_board(big_edition):
    whole = selectors.leaderboard_rows(edition=big_edition, phase="public", metric="top5")
    second = selectors.leaderboard_rows(
        edition=big_edition, phase="public", metric="top5", limit=PAGE_SIZE, offset=PAGE_SIZE
    )
    assert len(whole) == TEAMS + 1
    assert [(r.pk, r.position) for r in second] == [(r.pk, r.position) for r in whole[PAGE_SIZE:]]
    assert {r.total_rows for r in second} == {TEAMS + 1}

    board = selectors.edition_leaderboard(edition=big_edition, page=2)
    assert (board.page, board.pages, board.total) == (2, 2, TEAMS + 1)
    assert [r.pk for r in board.rows] == [r.pk for r in whole[PAGE_SIZE:]]
    everything = selectors.edition_leaderboard(edition=big_edition)
    assert (len(everything.rows), everything.pages) == (TEAMS + 1, 1)


def test_the_page_shows_one_page_with_links_and_refuses_pages_past_the_end(client, big_edition):
    url = reverse("edition_leaderboard", args=[big_edition.challenge.slug, big_edition.slug])

    first = client.get(url).content.decode()
    assert "team119" in first and "team000" not in first  # the best first
    assert "?page=2" in first and f"({TEAMS + 1} rows)" in first

    second = client.get(url, {"page": 2}).content.decode()
    assert "team000" in second and "team119" not in second
    assert "?page=1" in second

    assert client.get(url, {"page": 3}).status_code == 404
    assert client.get(url, {"page": "x"}).status_code == 200  # the first page
