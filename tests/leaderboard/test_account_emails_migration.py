"""Migration 0018 on accounts made before django-allauth: each logs in with its old password
through the real login page afterwards, and has its e-mail as a primary, unverified allauth
address; blank and case-blind duplicate addresses are skipped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("leaderboard", "0017_model_check_deadline")]
AFTER = [("leaderboard", "0018_account_emails")]
OLD_PASSWORD = "an-old-password-from-2025"


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.fixture
def before_allauth() -> Iterator[None]:
    """The schema just before 0018; the latest schema afterwards."""
    migrate(BEFORE)
    try:
        yield
    finally:
        migrate([])


def test_existing_accounts_log_in_with_their_old_password_and_get_their_address(before_allauth):
    users = get_user_model().objects
    veteran = users.create_user("veteran", email="Veteran@Example.org", password=OLD_PASSWORD)
    users.create_user("twin", email="veteran@example.ORG", password=OLD_PASSWORD)  # same, later
    users.create_user("nomail", email="", password=OLD_PASSWORD)
    assert not EmailAddress.objects.exists()

    migrate(AFTER)

    (address,) = EmailAddress.objects.all()
    assert address.user_id == veteran.pk and address.email == "veteran@example.org"
    assert address.primary and not address.verified
    veteran.refresh_from_db()
    assert veteran.check_password(OLD_PASSWORD)  # passwords untouched

    migrate([])  # the pages read tables of later migrations
    for login in ("veteran", "Veteran@Example.org", "twin", "nomail"):
        browser = Client()
        page = browser.get(reverse("login"))
        assert 'name="login"' in page.content.decode()
        response = browser.post(reverse("login"), {"login": login, "password": OLD_PASSWORD})
        assert response.status_code == 302, (login, response.content.decode()[:500])
        assert browser.get(reverse("api_tokens")).status_code == 200


def test_running_it_again_adds_nothing(before_allauth):
    users = get_user_model().objects
    users.create_user("ann", email="ann@example.org", password=OLD_PASSWORD)
    migrate(AFTER)
    migrate(BEFORE)
    migrate(AFTER)
    assert list(EmailAddress.objects.values_list("email", flat=True)) == ["ann@example.org"]
