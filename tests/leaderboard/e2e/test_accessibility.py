"""The walk's axe check finds what it should, and names the rule, the page and the element."""

from __future__ import annotations

from pathlib import Path

import pytest

from .accessibility import describe, violations

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")

FAILING = """<!doctype html><html><head><title>t</title></head><body><main>
<p style="color:#aaaaaa;background:#ffffff">Grey on white, 2.3:1</p>
<p style="color:#1d2330">Text with <a href="/x" style="color:#2f5bea;text-decoration:none">a link
told apart by its colour alone</a> (2.84:1 against the text) in it.</p>
<div id="widget"><p style="color:#bbbbbb">a third party's grey</p></div>
<input type="text" id="unlabelled">
</main></body></html>"""
PASSING = """<!doctype html><html lang="en"><head><title>t</title></head><body><main>
<h1>Fine</h1><p style="color:#5e6878;background:#eef1f6">Muted on code's grey, 4.98:1</p>
<p>Text with <a href="/x" style="text-decoration:underline">an underlined link</a>.</p>
<label for="named">Name</label><input type="text" id="named">
</main></body></html>"""


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser.new_page()
        browser.close()


def test_each_kind_of_failure_is_found_and_described(page):
    page.set_content(FAILING)
    found = violations(page)
    assert {v["id"] for v in found} == {
        "html-has-lang",
        "color-contrast",
        "link-in-text-block",
        "label",
    }
    text = describe(found, url="http://site/page/")
    assert "color-contrast (serious) on http://site/page/ at #widget > p" in text
    assert "label (critical) on http://site/page/ at #unlabelled" in text


def test_an_excluded_widget_is_not_checked_and_the_rest_still_is(page):
    page.set_content(FAILING)
    found = violations(page, exclude=("#widget",))
    contrast = next(v for v in found if v["id"] == "color-contrast")
    assert [node["target"] for node in contrast["nodes"]] == [["main > p:nth-child(1)"]]


def test_a_page_that_meets_the_rules_has_none(page):
    page.set_content(PASSING)
    assert violations(page) == []
