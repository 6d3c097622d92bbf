"""Login lockouts (django-axes) through the real login page: five wrong passwords for one
username from one address lock that pair out for 15 minutes; nobody else, and no API token."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from leaderboard.api import tokens

from .factories import make_user

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"  # factories.make_user's
HOME = "203.0.113.5"


@pytest.fixture(autouse=True)
def lockouts_on(settings):
    """The test settings turn lockouts off (the test client logs in without a request)."""
    settings.AXES_ENABLED = True


@pytest.fixture
def alice(db):
    return make_user("alice")


def log_in(client: Client, username: str, password: str, *, ip: str = HOME, **headers):
    data = {"login": username, "password": password}
    return client.post(reverse("login"), data, REMOTE_ADDR=ip, **headers)


def logged_in(client: Client) -> bool:
    return client.get(reverse("api_tokens")).status_code == 200


def fail(client: Client, username: str, times: int, **kwargs) -> list[int]:
    return [log_in(client, username, "wrong", **kwargs).status_code for _ in range(times)]


def test_five_wrong_passwords_lock_out_even_the_right_one(alice):
    browser = Client()
    assert fail(browser, "alice", 5) == [200, 200, 200, 200, 429]

    response = log_in(browser, "alice", PASSWORD)

    assert response.status_code == 429 and response["Retry-After"] == "900"
    page = response.content.decode()
    assert "Too many failed logins" in page and "locked for 15 minutes" in page
    assert not logged_in(browser)


def test_another_user_and_another_address_are_not_affected(alice):
    make_user("bob")
    fail(Client(), "alice", 5)

    bob = Client()
    assert log_in(bob, "bob", PASSWORD).status_code == 302 and logged_in(bob)
    elsewhere = Client()
    assert log_in(elsewhere, "alice", PASSWORD, ip="198.51.100.9").status_code == 302
    assert logged_in(elsewhere)


def test_the_lockout_ends_after_fifteen_minutes(alice):
    fail(Client(), "alice", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    browser = Client()
    assert log_in(browser, "alice", PASSWORD).status_code == 302 and logged_in(browser)


def test_a_successful_login_clears_the_count(alice):
    browser = Client()
    fail(browser, "alice", 4)
    assert log_in(browser, "alice", PASSWORD).status_code == 302
    assert fail(Client(), "alice", 4) == [200] * 4


def test_api_tokens_are_not_throttled_by_login_failures(alice):
    issued = tokens.token_create(user=alice)
    fail(Client(), "alice", 5)

    api = APIClient(REMOTE_ADDR=HOME)
    api.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    assert api.get("/api/me/").json()["username"] == "alice"  # locked out of the page only
    AccessAttempt.objects.all().delete()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert {api.get("/api/me/").status_code for _ in range(8)} == {401}
    assert not AccessAttempt.objects.exists()  # bad tokens are the API's 401s, not lockouts


def test_behind_a_proxy_the_forwarded_address_counts(settings, alice):
    settings.LOGIN_PROXY_COUNT = 1
    proxy = {"ip": "10.0.0.2"}
    fail(Client(), "alice", 5, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7", **proxy)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]

    other = Client()
    response = log_in(other, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
    assert response.status_code == 302  # another client behind the same proxy
    # What the client itself wrote into the header (left of the proxy's entry) does not count.
    spoofed = "9.9.9.9, 198.51.100.7"
    assert (
        log_in(Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR=spoofed, **proxy).status_code
        == 429
    )
    garbage = log_in(Client(), "alice", "wrong", HTTP_X_FORWARDED_FOR="<script>", **proxy)
    assert garbage.status_code == 200
    assert AccessAttempt.objects.filter(ip_address="10.0.0.2").exists()  # the peer, then


def test_wrong_passwords_by_name_and_by_address_count_against_one_account(alice):
    EmailAddress.objects.create(user=alice, email="alice@example.org", primary=True)
    browser = Client()
    assert fail(browser, "alice", 2) + fail(browser, "Alice@Example.org", 2) == [200] * 4
    assert fail(browser, "ALICE", 1) == [429]  # the fifth, however the account was named
    for login in ("alice", "alice@example.org"):
        assert log_in(Client(), login, PASSWORD).status_code == 429
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"alice"}
