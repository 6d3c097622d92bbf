"""Accounts in a real browser (Debian's chromium), with allauth's mail sent by a real Celery
worker process into files (EMAIL_URL=filemail://...): a student signs up, reads the
verification mail, follows its link and confirms, logs out and in again with the address;
then forgets the password, resets it through the mailed link and logs in with the new one.
Each page is checked with axe's WCAG A/AA rules and photographed (the test's tmp dir, and
ARTIFACTS_DIR when set).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress

from .accessibility import describe, violations
from .mailbox import read_mail
from .test_classroom_browser import CHROMIUM, browser  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]
PASSWORD = "a-long-walk-in-2026"
NEW_PASSWORD = "a-brand-new-phrase-77"


class Shots:
    """Full-page screenshots, named in order, under the test's folder and ARTIFACTS_DIR/accounts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.artifacts = os.environ.get("ARTIFACTS_DIR")

    def take(self, page, name: str) -> None:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if self.artifacts:
            target = Path(self.artifacts) / "accounts"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / path.name)


def link_in(message, path: str) -> str:
    (found,) = re.findall(rf"(https?://\S+{re.escape(path)}\S+/)", message.get_content())
    return found


def test_sign_up_verify_log_in_and_reset_the_password_through_the_mail(
    browser,  # noqa: F811
    live_server,
    workers,
    scoring_queue,
    tmp_path,
    settings,
):
    settings.NOTIFICATIONS_QUEUE = scoring_queue  # the site queues the mail where the worker is
    mail_dir = tmp_path / "mail"
    workers.start("mail1", EMAIL_URL=f"filemail://{mail_dir}")
    shots = Shots(tmp_path / "shots")
    problems: list[str] = []

    def look(name: str) -> None:
        """Photograph the page and check it with axe's WCAG A/AA rules."""
        shots.take(page, name)
        found = violations(page)
        if found:
            problems.append(describe(found, url=f"{name} {page.url}"))

    site = live_server.url
    page = browser.new_context(viewport={"width": 1100, "height": 760}).new_page()
    page.set_default_timeout(20_000)

    page.goto(f"{site}/accounts/login/")
    look("login")
    page.click("main a[href='/accounts/signup/']")
    page.fill("input[name=username]", "kim")
    page.fill("input[name=email]", "Kim@Example.org")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    look("signup")
    page.click("form button.button")
    page.wait_for_selector(".site-header .who")
    assert page.inner_text(".site-header .who") == "kim"  # in at once; verification optional
    assert "kim@example.org" in page.inner_text(".messages").lower()
    look("signed-up")

    (verification,) = read_mail(mail_dir, count=1)
    assert verification["To"] == "kim@example.org"
    assert verification["Subject"].startswith("[Arena] ")
    link = link_in(verification, "/accounts/confirm-email/")
    assert link.startswith(site)
    page.goto(link)
    assert "kim@example.org" in page.inner_text("main").lower()
    look("confirm-email")
    page.click("main form button.button")
    page.wait_for_load_state()
    assert EmailAddress.objects.get(user__username="kim").verified
    page.goto(f"{site}/accounts/email/")
    assert "verified" in page.inner_text("#email-list")
    look("email-addresses")
    page.goto(f"{site}/accounts/confirm-email/")
    look("verification-sent")

    page.click(".site-header button:has-text('Log out')")
    page.wait_for_selector(".site-header a[href='/accounts/login/']")
    page.goto(f"{site}/accounts/login/")
    page.fill("input[name=login]", "kim@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button.button")
    page.wait_for_selector(".site-header .who")
    assert page.inner_text(".site-header .who") == "kim"

    page.click(".site-header button:has-text('Log out')")
    page.wait_for_selector(".site-header a[href='/accounts/login/']")
    page.goto(f"{site}/accounts/login/")
    page.click("main a[href='/accounts/password/reset/']")
    page.fill("input[name=email]", "KIM@example.org")
    look("password-reset")
    page.click("form button.button")
    page.wait_for_selector("#reset-sent")
    look("password-reset-sent")

    reset = read_mail(mail_dir, count=2)[-1]
    assert reset["To"] == "kim@example.org"
    page.goto(link_in(reset, "/accounts/password/reset/key/"))
    page.wait_for_selector("#new-password-form")
    page.fill("input[name=password1]", NEW_PASSWORD)
    page.fill("input[name=password2]", NEW_PASSWORD)
    look("new-password")
    page.click("form button.button")
    page.wait_for_selector("#reset-done")
    look("password-changed")

    page.goto(f"{site}/accounts/login/")
    page.fill("input[name=login]", "kim")
    page.fill("input[name=password]", PASSWORD)  # the old one no longer works
    page.click("form button.button")
    page.wait_for_selector(".errors")
    look("login-refused")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("form button.button")
    page.wait_for_selector(".site-header .who")
    assert page.inner_text(".site-header .who") == "kim"
    assert "Traceback" not in workers.log(workers.started[0])
    assert not problems, "\n".join(problems)
