"""At 0 submissions left the submit page says so before the upload (issue 17, item 7): when the
daily limit resets (midnight in the edition's time zone), or that the total is used up; the
"Upload and score" button is disabled, the free "Check my model" button is not."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from leaderboard.selectors.quota import quota_resets_at

from .factories import make_edition, make_scored, make_team

pytestmark = pytest.mark.django_db


def page(client, user, edition, *, used: int) -> str:
    team = make_team(edition=edition, name="ours", users=[user])
    for _ in range(used):
        make_scored(edition=edition, team=team, top1=0.2, top5=0.1)
    client.force_login(user)
    return client.get(
        reverse("submit", args=[edition.challenge.slug, edition.slug])
    ).content.decode()


def upload_button(html: str) -> str:
    return re.search(r"<button[^>]*>Upload and score</button>", html).group(0)


def test_none_left_today_says_when_the_limit_resets(client, user, challenge):
    edition = make_edition(challenge=challenge, daily_limit=2)
    edition.time_zone = "Europe/Paris"
    edition.save()
    html = page(client, user, edition, used=2)
    resets = timezone.localtime(quota_resets_at(edition=edition), edition.tzinfo)
    assert (resets.hour, resets.minute) == (0, 0) and resets > timezone.now()
    assert 'id="quota-notice"' in html and "no submissions left today" in html
    assert "resets at midnight, Europe/Paris time" in html
    assert resets.strftime("%a %-d %b %Y, 00:00") in html
    assert " disabled" in upload_button(html)
    check = re.search(r'<button[^>]*id="check-button"[^>]*>', html)
    assert check is None or "disabled" not in check.group(0)  # checks never count


def test_the_total_used_up_has_no_reset(client, user, challenge):
    edition = make_edition(challenge=challenge, daily_limit=5, total_limit=1)
    html = page(client, user, edition, used=1)
    assert "used all 1 submissions of this edition" in html and "resets" not in html
    assert " disabled" in upload_button(html)


def test_with_submissions_left_the_form_is_as_before(client, user, challenge):
    html = page(client, user, make_edition(challenge=challenge, daily_limit=2), used=1)
    assert "quota-notice" not in html and "disabled" not in upload_button(html)


def test_the_reset_is_the_next_local_midnight(challenge):
    edition = make_edition(challenge=challenge)
    edition.time_zone = "America/New_York"
    # Around 8 March 2026, when New York moves from UTC-5 to UTC-4.
    late = dt.datetime(2026, 3, 8, 3, 30, tzinfo=dt.UTC)  # 22:30 on 7 March, EST
    assert quota_resets_at(edition=edition, now=late) == dt.datetime(2026, 3, 8, 5, tzinfo=dt.UTC)
    after = dt.datetime(2026, 3, 8, 12, tzinfo=dt.UTC)  # 08:00 EDT
    assert quota_resets_at(edition=edition, now=after) == dt.datetime(2026, 3, 9, 4, tzinfo=dt.UTC)
