"""In Chromium: the host opens People from the host page, adds a teaching assistant by username,
uploads a roster with a bad row (refused whole, the row named), then the corrected file; the
assistant then sees the host page without its host-only controls. An assistant invited by e-mail
opens the mailed link, signs up, comes back to it and accepts; the used link is then refused."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connections

from leaderboard.celery import app as celery_app
from leaderboard.models import Edition, EditionRole, RosterEntry
from leaderboard.services import people

from .factories import make_edition, make_user

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]


@pytest.fixture
def browser(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls between browser steps
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        yield browser
        browser.close()
        connections.close_all()


def log_in(browser, url: str, username: str):
    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "pw-for-tests-1")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.fixture
def mail_queue(settings):
    """The invitations' tasks go to a queue of this test's own, read back and then deleted."""
    name = f"people-{uuid.uuid4().hex[:10]}"
    settings.NOTIFICATIONS_QUEUE = name
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    yield lambda: [json.loads(raw)["headers"]["task"] for raw in client.lrange(name, 0, -1)]
    client.delete(name)


def test_the_host_adds_an_assistant_and_uploads_the_roster(
    browser, live_server, challenge, tmp_path, mail_queue
):
    edition = make_edition(challenge=challenge)
    Edition.objects.filter(pk=edition.pk).update(host=make_user("teacher"), join_code="ROSTER42")
    make_user("tia")
    host_page = f"{live_server.url}/c/{challenge.slug}/{edition.slug}/host/"

    page = log_in(browser, live_server.url, "teacher")
    page.goto(host_page)
    page.click("#host-people")
    page.fill("#role-add input[name=who]", "tia")
    page.select_option("#role-add select[name=role]", "ta")
    page.click("#role-add button[type=submit]")
    page.wait_for_selector("text=tia is now teaching assistant.")
    assert EditionRole.objects.filter(edition=edition, user__username="tia", role="ta").exists()

    bad = tmp_path / "class.csv"
    bad.write_text("email,name\nann@example.org,Ann\nnope,Bob\n", encoding="utf-8")
    page.set_input_files("#roster-form input[type=file]", str(bad))
    page.click("#roster-form button[type=submit]")
    errors = page.inner_text("#roster-errors")
    assert "Nothing was imported from class.csv" in errors
    assert "Line 3: 'nope' is not an e-mail address." in errors
    assert not RosterEntry.objects.filter(edition=edition).exists()

    bad.write_text("email,name\nann@example.org,Ann\nbob@example.org,Bob\n", encoding="utf-8")
    page.set_input_files("#roster-form input[type=file]", str(bad))
    page.click("#roster-form button[type=submit]")
    page.wait_for_selector("text=2 added, 0 updated, 0 unchanged; 2 invitations mailed.")
    emails = page.locator("#roster tbody tr").evaluate_all("rows => rows.map(r => r.dataset.email)")
    assert emails == ["ann@example.org", "bob@example.org"]
    assert mail_queue() == ["leaderboard.tasks.send_people_mail"] * 2

    ta = log_in(browser, live_server.url, "tia")
    ta.goto(host_page)
    assert ta.locator("#host-grades").count() == 1
    assert ta.locator("#host-people").count() == 0
    assert ta.locator("text=Pause submissions").count() == 0
    response = ta.goto(f"{host_page}people/")
    assert response.status == 403


def test_an_invited_assistant_signs_up_from_the_link_and_accepts(browser, live_server, challenge):
    edition = make_edition(challenge=challenge)
    Edition.objects.filter(pk=edition.pk).update(host=make_user("teacher"))
    edition.refresh_from_db()
    row = people.role_add(edition=edition, by=edition.host, who="ta@example.org", role="ta")
    body = people.people_message(kind="role", pk=row.pk).body
    (path,) = re.findall(r"https?://[^/\s]+(/invitation/\S+/)", body)

    page = browser.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}{path}")
    assert "teaching assistant" in page.inner_text("#claim-offer")
    page.click("#claim-signup")
    page.fill("input[name=username]", "tia")
    page.fill("input[name=email]", "tia@example.org")
    page.fill("input[name=password1]", "a-long-pass-phrase-9")
    page.fill("input[name=password2]", "a-long-pass-phrase-9")
    page.click("main button[type=submit]")
    page.wait_for_selector("#claim-accept")
    assert page.url == f"{live_server.url}{path}"  # back at the link after signing up
    page.click("#claim-accept")
    page.wait_for_selector("text=You are now teaching assistant")
    assert page.url.endswith(f"/c/{challenge.slug}/{edition.slug}/host/")
    assert EditionRole.objects.get(pk=row.pk).user.username == "tia"

    page.goto(f"{live_server.url}{path}")
    assert "already been used" in page.inner_text("#claim-refused")
