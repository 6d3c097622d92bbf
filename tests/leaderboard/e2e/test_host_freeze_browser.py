"""Issue 16, section 5, in Chromium with a real Celery worker and the file mail backend:
a host adds a teaching assistant and freezes the public board from the host page; a student
uploads a model, it is scored by the worker, the student receives the e-mail and follows its
link; the frozen public board keeps the standings at the freeze while the student's team sees
its new score beside it; the assistant's host page has re-runs but no pause or freeze.
Screenshots go to the test's tmp dir and, when ARTIFACTS_DIR is set, there too.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from leaderboard.metrics import percent
from leaderboard.models import EditionRole, Score, Submission

from ..factories import make_scored, make_team, make_user, onnx_bytes, write_file
from .mailbox import read_mail

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
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


def signed_in(browser, live_server, user):
    """A page whose browser holds ``user``'s session (the login form has tests of its own)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


class Shots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if artifacts := os.environ.get("ARTIFACTS_DIR"):
            target = Path(artifacts) / "host-freeze"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / path.name)
        return path


def person(name: str):
    user = make_user(name)
    user.email = f"{name}@example.org"
    user.save()
    return user


def test_host_adds_an_assistant_freezes_the_board_and_the_student_is_mailed_the_score(
    browser, live_server, workers, digits_edition, tmp_path
):
    mail_dir = tmp_path / "mail"
    workers.start("gpu1", EMAIL_URL=f"filemail://{mail_dir}", SITE_URL=live_server.url)
    edition = digits_edition
    hana, tia, sam = person("hana"), person("tia"), person("sam")
    edition.host = hana
    edition.save(update_fields=["host"])
    # Another team's entry, scored two hours ago: the standings the freeze will keep.
    early = make_team(edition=edition, name="Early birds", users=[person("erin")])
    kept = make_scored(edition=edition, team=early, top1=0.9, top5=0.9, method="early entry")
    Score.objects.filter(submission=kept).update(created_at=timezone.now() - dt.timedelta(hours=2))
    base = f"{live_server.url}/c/{edition.challenge.slug}/{edition.slug}"
    shots = Shots(tmp_path / "screenshots")

    # The host adds a teaching assistant on the People page.
    host = signed_in(browser, live_server, hana)
    host.goto(f"{base}/host/")
    host.click("#host-people")
    host.fill("#role-add input[name=who]", "tia")
    host.select_option("#role-add select[name=role]", "ta")
    host.click("#role-add button[type=submit]")
    host.wait_for_selector("text=tia is now teaching assistant.")
    assert EditionRole.objects.filter(edition=edition, user=tia, role="ta").exists()

    # ... then freezes the public board from a minute ago, on the host page.
    host.goto(f"{base}/host/")
    since = timezone.localtime(timezone.now() - dt.timedelta(minutes=1), edition.tzinfo)
    host.fill("#frozen-at", since.strftime("%Y-%m-%dT%H:%M"))
    host.click("button[name=action][value=freeze]")
    host.wait_for_selector("#frozen-state:has-text('Frozen')")
    edition.refresh_from_db()
    assert edition.board_frozen_at == since.replace(second=0, microsecond=0)
    shots.take(host, "host-page-frozen")

    # The student uploads a model; the worker scores it and the mail arrives.
    student = signed_in(browser, live_server, sam)
    model = write_file(tmp_path / "tiny.onnx", onnx_bytes(height=28, width=28, classes=10))
    student.goto(f"{base}/submit/")
    student.set_input_files("input[name=file]", str(model))
    student.fill("input[name=method_name]", "tiny linear")
    student.click("#submit-form button[type=submit]")
    student.wait_for_url(f"{live_server.url}/me/submissions/")
    student.wait_for_selector("tr[data-status=scored]", timeout=180_000)
    submission = Submission.objects.get(edition=edition, submitted_by=sam)
    public_top5 = submission.score.public_top5_error

    (message,) = read_mail(mail_dir, count=1)
    assert message["To"] == "sam@example.org"
    assert message["Subject"].startswith("[Arena] Scored: tiny linear")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert percent(public_top5, 2) in text
    link = re.search(rf"^({re.escape(live_server.url)}/\S+)$", text, re.M).group(1)
    assert link == f"{live_server.url}{submission.get_absolute_url()}"
    student.goto(link)  # the mail's link opens the submission's page
    assert "tiny linear" in student.inner_text("main")
    shots.take(student, "student-follows-the-mail")

    # The public board is frozen: the standings at the freeze, the team's new score beside.
    student.goto(f"{base}/")
    assert "The public board is frozen" in student.inner_text("#frozen-notice")
    ranked = student.locator("table.leaderboard tbody tr[data-submission]")
    assert ranked.evaluate_all("rows => rows.map(r => r.dataset.submission)") == [str(kept.pk)]
    after = student.locator(f'#after-freeze tr[data-submission="{submission.pk}"]')
    assert percent(public_top5, 2) in after.inner_text()
    shots.take(student, "frozen-board-with-own-score")

    # The assistant's host page: re-runs, no pause or freeze.
    assistant = signed_in(browser, live_server, tia)
    assistant.goto(f"{base}/host/")
    assert assistant.locator("#rerun-finals").count() == 1
    assert assistant.locator("#pause-freeze").count() == 0
    assert assistant.locator("button[name=action][value=freeze]").count() == 0
    shots.take(assistant, "assistant-host-page")
