"""The site's icon: linked from every page, and served at /favicon.ico for browsers that ask
there directly (a 404 on every page otherwise)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_served_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # an ICO
    assert "max-age=86400" in response["Cache-Control"]
    assert client.head("/favicon.ico").status_code == 200
    assert client.post("/favicon.ico").status_code == 405


def test_every_page_links_the_svg_icon_and_it_is_served(client):
    page = client.get(reverse("challenge_list")).content.decode()
    link = '<link rel="icon" href="/static/leaderboard/favicon.svg" type="image/svg+xml">'
    assert link in page
    response = client.get("/static/leaderboard/favicon.svg")
    assert response.status_code == 200
    assert b"<svg" in b"".join(response.streaming_content)
