"""One visibility rule for the submission page and the API (``selectors.visibility``): who may
see a submission at all, and which parts of its result, asked through both in the same way."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboard.models import Score
from tests.leaderboard.factories import make_edition, make_scored, make_team, make_user

pytestmark = pytest.mark.django_db

# Four-decimal fractions: the JSON holds them (0.1112), the page prints percentages (11.12%).
PUBLIC = {"top1_error": 0.1112, "top5_error": 0.0223, "balanced_error": 0.1557}
PRIVATE = {"top1_error": 0.3331, "top5_error": 0.0445, "balanced_error": 0.1669}
ALL = {"top1_error": 0.2221, "top5_error": 0.0334, "balanced_error": 0.1613}
RECORD = {
    "public_per_class_accuracy": [0.8125, 0.8125, 0.8125, 0.8125],
    "per_class_accuracy": [0.6875, 0.6875, 0.6875, 0.6875],
}


def scored_with(edition, team, *, baseline: bool = False):
    submission = make_scored(
        edition=edition, team=team, top1=0.5, top5=0.5, baseline=baseline, record=RECORD
    )
    Score.objects.filter(submission=submission).update(
        **{f"public_{k}": v for k, v in PUBLIC.items()},
        **{f"private_{k}": v for k, v in PRIVATE.items()},
        **ALL,
    )
    return submission


def shown(value: float, surface: str) -> str:
    return f"{100 * value:.2f}%" if surface == "page" else str(value)


def fetch(client, surface: str, submission) -> tuple[int, str]:
    if surface == "page":
        response = client.get(reverse("submission_detail", args=[submission.pk]))
    else:
        response = client.get(reverse("api:submission_detail", args=[submission.pk]))
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("closed", [False, True], ids=["running", "closed"])
@pytest.mark.parametrize("viewer", ["member", "staff", "other team", "anonymous"])
@pytest.mark.parametrize("surface", ["page", "api"])
def test_one_rule_for_the_page_and_the_api(client, challenge, surface, viewer, closed):
    edition = make_edition(challenge=challenge, open_now=not closed)
    member = make_user("member")
    own = scored_with(edition, make_team(edition=edition, name="owls", users=[member]))
    baseline = scored_with(edition, None, baseline=True)
    others = make_user("other")
    make_team(edition=edition, name="larks", users=[others])
    staff = make_user("staff")
    staff.is_staff = True
    staff.save()
    login = {"member": member, "staff": staff, "other team": others}.get(viewer)
    if login is not None:
        client.force_login(login)

    for submission in (own, baseline):
        status, body = fetch(client, surface, submission)
        if submission is own and viewer in ("other team", "anonymous"):
            assert status == 404  # as if it did not exist
            assert "0.1112" not in body and "11.12%" not in body
            continue
        assert status == 200
        # The public part always; the private part and the whole set once closed, for anyone.
        assert all(shown(v, surface) in body for v in PUBLIC.values())
        for value in (*PRIVATE.values(), *ALL.values()):
            assert (shown(value, surface) in body) == closed, value
        # Per-class figures: the public part's while running, the whole set's after.
        assert ("0.8125" in body or "0.813" in body) == (not closed)
        assert ("0.6875" in body or "0.688" in body) == closed
