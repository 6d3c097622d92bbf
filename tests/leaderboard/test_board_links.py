"""A leaderboard row links to the submission page its viewer may open (issue 17, item 6): a
baseline's for everyone, a team's entries for that team's members (and staff), no other team's.
The rule is the one the submission page applies (``selectors.visibility``): each link opens."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from .factories import make_edition, make_scored, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(challenge, user):
    edition = make_edition(challenge=challenge)
    ours = make_team(edition=edition, name="ours", users=[user])
    theirs = make_team(edition=edition, name="theirs", users=[make_user("bob")])
    return {
        "url": reverse("edition_leaderboard", args=[challenge.slug, edition.slug]),
        "baseline": make_scored(edition=edition, team=None, baseline=True, top1=0.3, top5=0.1),
        "ours": make_scored(edition=edition, team=ours, top1=0.2, top5=0.05, method="our net"),
        "theirs": make_scored(edition=edition, team=theirs, top1=0.1, top5=0.02, method="theirs"),
    }


def links(client, url: str) -> set[str]:
    page = client.get(url).content.decode()
    return set(re.findall(r'href="/submissions/([0-9a-f-]{36})/"', page))


def opens(client, pk) -> bool:
    return client.get(reverse("submission_detail", args=[pk])).status_code == 200


def test_a_visitor_opens_the_baselines(client, board):
    found = links(client, board["url"])
    assert found == {str(board["baseline"].pk)}
    assert all(opens(client, pk) for pk in found)


def test_a_member_opens_the_baselines_and_the_teams_own(client, user, board):
    client.force_login(user)
    found = links(client, board["url"])
    assert found == {str(board["baseline"].pk), str(board["ours"].pk)}
    assert all(opens(client, pk) for pk in found)
    assert not opens(client, board["theirs"].pk)  # unlinked, and not to be opened either


def test_staff_opens_every_row(client, board):
    staff = make_user("host")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert links(client, board["url"]) == {str(board[k].pk) for k in ("baseline", "ours", "theirs")}
