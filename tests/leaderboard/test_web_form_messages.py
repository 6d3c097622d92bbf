"""The web form speaks of its own fields (issue 17, item 8): a refusal that the CLI and the API
word with the ``--arch`` flag names the "Architecture" field in the browser, in the page and in
the JSON its upload script reads; the API keeps ``--arch``."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from leaderboard.api import tokens
from leaderboard.errors import message_for_web_form
from tests.leaderboard.factories import unknown_upload

pytestmark = pytest.mark.django_db
FIELD = '(the "Architecture" field)'


def post(client: Client, url: str, **headers):
    data = {"file": unknown_upload(), "method_name": "probe", "arch": "", "description": ""}
    return client.post(url, data, **headers)


@pytest.mark.parametrize("page", ["submit", "model_check_create"])
def test_the_browser_reads_of_the_architecture_field(client, user, edition, page):
    client.force_login(user)
    url = reverse(page, args=[edition.challenge.slug, edition.slug])
    as_json = post(client, url, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400
    (message,) = as_json.json()["errors"]["file"]
    assert FIELD in message and "--arch" not in message
    if page == "submit":  # without JavaScript, the same words on the page
        html = post(client, url).content.decode()
        assert "the &quot;Architecture&quot; field" in html and "--arch" not in html


def test_the_api_and_the_cli_keep_the_flag(user, edition):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {tokens.token_create(user=user).key}")
    url = f"/api/challenges/{edition.challenge.slug}/editions/{edition.slug}/submissions/"
    response = api.post(url, {"file": unknown_upload(), "method_name": "probe"}, format="multipart")
    assert response.status_code == 400
    assert "(--arch)" in response.json()["message"]


def test_only_the_flag_is_reworded():
    assert message_for_web_form("weights and a name (--arch).") == f"weights and a name {FIELD}."
    assert message_for_web_form("The uploaded file is empty.") == "The uploaded file is empty."
