"""Tokens: made and revoked on the web page (CSRF-protected, shown once), stored hashed,
checked by the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leaderboard.api import tokens
from leaderboard.models import ApiToken

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(user) -> Client:
    """A logged-in browser whose POSTs must carry the CSRF token, as real ones do."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_post(client: Client, url: str):
    page = client.get(reverse("api_tokens"))
    return client.post(url, {"csrfmiddlewaretoken": str(page.context["csrf_token"])})


def made_days_ago(issued: tokens.IssuedToken, days: int) -> None:
    created = timezone.now() - dt.timedelta(days=days)
    ApiToken.objects.filter(pk=issued.token.pk).update(created=created)


def test_token_page_requires_login(client):
    response = client.get(reverse("api_tokens"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_site_navigation_links_to_the_token_page_once_logged_in(client, browser):
    link = f'<a href="{reverse("api_tokens")}">API tokens</a>'
    assert link in browser.get(reverse("challenge_list")).content.decode()
    assert link not in client.get(reverse("challenge_list")).content.decode()


def test_a_new_token_is_shown_once_and_works(browser, user, api):
    assert "You have no token" in browser.get(reverse("api_tokens")).content.decode()

    response = csrf_post(browser, reverse("api_token_create"))

    key = re.search(r'<code id="new-token">([^<]+)</code>', response.content.decode()).group(1)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    later = browser.get(reverse("api_tokens")).content.decode()
    assert key not in later and f"starting <code>{key[:8]}</code>" in later  # never again
    # The site's buttons, the destructive one marked as such (not a bare browser button).
    assert '<button type="submit" class="button">Replace it with a new token</button>' in later
    assert '<button type="submit" class="button danger">Revoke it</button>' in later
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/me/").json()["username"] == "alice"


def test_creating_a_token_needs_the_csrf_token(browser, user):
    response = browser.post(reverse("api_token_create"))
    assert response.status_code == 403
    assert not ApiToken.objects.filter(user=user).exists()


def test_replacing_a_token_revokes_the_old_one(browser, token, api):
    csrf_post(browser, reverse("api_token_create"))

    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = assert_error(api.get("/api/me/"), 401, "token_invalid")
    assert "revoked" in body["message"]


def test_revoked_token_is_refused(browser, token, api):
    response = csrf_post(browser, reverse("api_token_revoke"))
    assert response.status_code == 302
    assert "You have no token" in browser.get(reverse("api_tokens")).content.decode()

    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert_error(api.get("/api/me/"), 401, "token_invalid")


def test_expired_token_says_so(settings, token, api):
    settings.API_TOKEN_TTL_DAYS = 30
    made_days_ago(token, 31)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    body = assert_error(api.get("/api/me/"), 401, "token_expired")
    assert "expired on" in body["message"]


def test_tokens_never_expire_with_a_ttl_of_zero(settings, token, api):
    settings.API_TOKEN_TTL_DAYS = 0
    made_days_ago(token, 3650)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get("/api/me/")
    assert response.status_code == 200 and response.json()["token_expires_at"] is None


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token not-a-real-key", "Bearer nope", "Token caf\u00e9"],
)
def test_bad_credentials_are_token_invalid(api, header):
    api.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    response = api.get("/api/me/")
    assert_error(response, 401, "token_invalid")
    assert response["WWW-Authenticate"] == "Token"


def test_bearer_keyword_is_accepted(api, token):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    assert api.get("/api/me/").status_code == 200


def test_no_credentials_is_not_authenticated(api):
    body = assert_error(api.get("/api/me/"), 401, "not_authenticated")
    assert "/me/tokens/" in body["message"]


def test_inactive_user_token_is_refused(api, user, token):
    user.is_active = False
    user.save()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert_error(api.get("/api/me/"), 401, "token_invalid")


def test_me_reports_expiry(settings, alice_api, token):
    settings.API_TOKEN_TTL_DAYS = 10
    body = alice_api.get("/api/me/").json()
    expected = token.token.created + dt.timedelta(days=10)
    assert dt.datetime.fromisoformat(body["token_expires_at"]) == expected


def test_token_service_replaces_and_revokes(user):
    first = tokens.token_create(user=user)
    second = tokens.token_create(user=user)
    assert first.key != second.key
    assert list(ApiToken.objects.filter(user=user)) == [second.token]
    assert tokens.token_revoke(user=user) is True
    assert tokens.token_revoke(user=user) is False


def test_the_database_holds_a_digest_and_a_prefix_never_the_token(user):
    issued = tokens.token_create(user=user)

    row = ApiToken.objects.values().get(user=user)
    assert issued.key not in repr(row)
    assert row["digest"] == hashlib.sha256(issued.key.encode()).hexdigest()
    assert row["prefix"] == issued.key[:8] and len(issued.key) >= 40
    with connection.cursor() as cursor:  # nowhere else either: no table holds the key
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('character varying', 'text')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(f'SELECT 1 FROM "{table}" WHERE "{column}" LIKE %s', [f"%{issued.key}%"])
            assert cursor.fetchone() is None, (table, column)


def test_a_created_token_authenticates_and_a_wrong_one_is_401(api, token):
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/me/").json()["username"] == "alice"

    wrong = token.key[:-1] + ("A" if token.key[-1] != "A" else "B")
    api.credentials(HTTP_AUTHORIZATION=f"Token {wrong}")
    assert_error(api.get("/api/me/"), 401, "token_invalid")
    api.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.objects.get().digest}")
    assert_error(api.get("/api/me/"), 401, "token_invalid")  # the digest is no token
