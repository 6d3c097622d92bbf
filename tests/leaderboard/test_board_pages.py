"""The leaderboard in pages: positions and totals over the whole board, the same queries, and
the filters its rows are printed with."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest
from django.template.defaultfilters import date, floatformat
from django.urls import reverse
from django.utils import timezone

from leaderboard import selectors
from leaderboard.selectors.leaderboard import PAGE_SIZE
from leaderboard.templatetags.arena import fixed, in_zone, local_minute

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


def test_the_rows_fast_filters_print_what_floatformat_and_date_printed():
    """``fixed`` and ``local_minute`` stand in for ``floatformat:4`` and ``in_zone|date`` on
    the leaderboard's rows: same text, without Django's per-call localisation lookups."""
    rng = random.Random(5)
    values = [0.0, 1.0, 0.12345, 0.00005, 0.99995, 1e-7, *(rng.random() for _ in range(2000))]
    values += [round(rng.random(), 5) for _ in range(2000)]  # many exact ties at the 5th digit
    for value in values:
        assert fixed(value, 4) == floatformat(value, 4), value
    assert fixed(None, 4) == floatformat(None, 4) == ""

    zone = zoneinfo.ZoneInfo("America/Los_Angeles")
    moment = timezone.now()
    for hours in range(0, 24 * 400, 7):  # a year and more, across both clock changes
        when = moment + dt.timedelta(hours=hours, minutes=hours % 60)
        assert local_minute(when, zone) == date(in_zone(when, zone), "Y-m-d H:i")
