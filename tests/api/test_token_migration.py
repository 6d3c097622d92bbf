"""Migration 0006 on a database that still has DRF's plain-text tokens: each key is stored as
its digest and keeps working, and no plain key is left behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from leaderboard.api import tokens
from leaderboard.models import ApiToken
from tests.leaderboard.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("leaderboard", "0005_robustness")]
AFTER = [("leaderboard", "0006_api_tokens_hashed")]
# DRF's authtoken table as its migrations left it.
LEGACY_TABLE = """
CREATE TABLE authtoken_token (
    "key" varchar(40) NOT NULL PRIMARY KEY,
    created timestamp with time zone NOT NULL,
    user_id integer NOT NULL UNIQUE REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED
)"""
OLD_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


@pytest.fixture
def before_hashing() -> Iterator[None]:
    """The schema just before 0006, with DRF's token table; the latest schema afterwards."""
    migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute(LEGACY_TABLE)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS authtoken_token")
        migrate([])


def legacy_keys() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute('SELECT "key" FROM authtoken_token')
        return [key for (key,) in cursor.fetchall()]


def test_an_old_token_is_stored_hashed_and_keeps_working(before_hashing):
    user = make_user("veteran")
    created = (timezone.now() - dt.timedelta(days=40)).replace(microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [OLD_KEY, created, user.pk],
        )

    migrate(AFTER)

    assert legacy_keys() == []  # no plain-text key left in the database
    row = ApiToken.objects.get(user=user)
    assert row.digest == tokens.token_digest(key=OLD_KEY) and OLD_KEY not in row.digest
    assert (row.prefix, row.created) == (OLD_KEY[:8], created)  # its expiry is unchanged
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert api.get("/api/me/").json()["username"] == "veteran"

    migrate([])  # the page's menu reads tables of later migrations
    browser = Client()
    browser.force_login(user)
    page = browser.get(reverse("api_tokens")).content.decode()
    assert f"starting <code>{OLD_KEY[:8]}</code>" in page and OLD_KEY not in page
