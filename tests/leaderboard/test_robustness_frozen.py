"""The robustness board follows a host's freeze, and says so with the leaderboard's banner."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from leaderboard.models import Score

from .factories import make_edition, make_team
from .test_robustness_board import make_robust

pytestmark = pytest.mark.django_db


def board_page(client, edition, **params) -> str:
    url = reverse("edition_robustness", args=[edition.challenge.slug, edition.slug])
    return client.get(url, params).content.decode()


def methods(html: str) -> list[str]:
    table = html[html.index("robustness-board") :]
    return re.findall(r'<td><a href="/submissions/[^"]+/">([^<]+)</a>', table)


def test_a_frozen_robustness_board_shows_the_banner_and_the_freeze_time_standings(
    client, challenge
):
    edition = make_edition(challenge=challenge)
    early, late = make_team(edition=edition, name="early"), make_team(edition=edition, name="late")
    make_robust(edition=edition, team=early, top1=0.2, top5=0.1, robust=(0.3, 0.3), method="old")
    Score.objects.update(created_at=timezone.now() - dt.timedelta(hours=2))
    edition.board_frozen_at = timezone.now() - dt.timedelta(hours=1)
    edition.save(update_fields=["board_frozen_at"])
    make_robust(edition=edition, team=late, top1=0.2, top5=0.1, robust=(0.1, 0.1), method="new")

    html = board_page(client, edition)
    assert 'id="frozen-notice"' in html and "The public board is frozen" in html
    assert methods(html) == ["old"]  # the entry scored after the freeze is not on it yet

    edition.board_frozen_at = None
    edition.save(update_fields=["board_frozen_at"])
    html = board_page(client, edition)
    assert 'id="frozen-notice"' not in html
    assert methods(html) == ["new", "old"]


def test_a_freeze_still_to_come_or_a_closed_edition_shows_no_banner(client, challenge):
    edition = make_edition(challenge=challenge)
    team = make_team(edition=edition, name="t")
    make_robust(edition=edition, team=team, top1=0.2, top5=0.1, robust=(0.3, 0.3))
    edition.board_frozen_at = timezone.now() + dt.timedelta(hours=1)
    edition.save(update_fields=["board_frozen_at"])
    assert 'id="frozen-notice"' not in board_page(client, edition)

    closed = make_edition(challenge=challenge, year=2024, open_now=False)
    closed.board_frozen_at = closed.closes_at - dt.timedelta(days=2)
    closed.save(update_fields=["board_frozen_at"])
    assert 'id="frozen-notice"' not in board_page(client, closed)
    assert 'id="frozen-notice"' not in board_page(client, closed, board="public")
