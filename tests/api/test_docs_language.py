"""The API's documentation pages (Swagger UI, Redoc) name their language and title: what can be
set from outside the widgets for WCAG 2.1 AA (the walk runs axe on /api/docs/ too)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize(
    ("page", "widget"), [("/api/docs/", "Swagger UI"), ("/api/redoc/", "Redoc")]
)
def test_the_docs_pages_say_their_language_and_what_they_are(client, page, widget):
    response = client.get(page)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<html lang="en">', html), html[:300]
    title = re.search(r"<title>([^<]+)</title>", html).group(1)
    assert title == f"Image-classification challenges API · {widget} · Arena"
    assert "<main" in html  # the widget sits in the page's main landmark
    assert "fonts.googleapis.com" not in html  # nothing fetched from elsewhere
