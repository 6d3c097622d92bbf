"""In Chromium: the host opens Grades from the host page, sets rank bands, sees the preview and
downloads the file a gradebook imports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.db import connections

from leaderboard.models import Edition, GradingRule

from .factories import make_edition, make_scored, make_team, make_user

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]


@pytest.fixture
def page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls between browser steps
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        page = browser.new_page(accept_downloads=True)
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        connections.close_all()


def test_the_host_sets_bands_and_downloads_the_grades(page, live_server, challenge, tmp_path):
    edition = make_edition(challenge=challenge, open_now=False)
    host = make_user("teacher")
    Edition.objects.filter(pk=edition.pk).update(host=host)
    for name, members, error in (("Owls", ["ana", "ben"], 0.12), ("Foxes", ["cat"], 0.30)):
        team = make_team(edition=edition, name=name, users=[make_user(u) for u in members])
        make_scored(edition=edition, team=team, top1=0.5, top5=0.5, private=(0.5, error))

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "teacher")
    page.fill("input[name=password]", "pw-for-tests-1")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/c/{challenge.slug}/{edition.slug}/host/")
    page.click("#host-grades")
    assert "Save a rule" in page.inner_text("#grades-preview")

    page.check("input[name=kind][value=bands]")
    page.fill("textarea[name=bands]", "1: 10\n2+: 6")
    page.click("#grading-form button[type=submit]")
    page.wait_for_selector("#grades-preview tr[data-team=Owls]")
    rows = page.locator("#grades-preview tbody tr")
    assert rows.nth(0).inner_text().split("\t")[:5] == ["1", "Owls", "ana, ben", "12.00%", "10.00"]
    assert rows.nth(1).inner_text().split("\t")[:5] == ["2", "Foxes", "cat", "30.00%", "6.00"]
    assert GradingRule.objects.get(edition=edition).bands == [[1, 1, "10.00"], [2, None, "6.00"]]

    with page.expect_download() as download:
        page.click("#grades-csv")
    saved = tmp_path / "grades.csv"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    got = [(r["Username"], r["Rank"], r["Points"]) for r in csv.DictReader(io.StringIO(text))]
    assert got == [("ana", "1", "10.00"), ("ben", "1", "10.00"), ("cat", "2", "6.00")]
