"""Fixtures for the API tests: the site tests' file roots and rows, a token, a clean throttle."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from leaderboard.api import tokens
from tests.leaderboard import conftest as site

# The site tests' fixtures: own file roots per test (autouse), rows, the real Redis queue.
file_roots = site.file_roots
gpu_queue = site.gpu_queue
user = site.user
challenge = site.challenge
edition = site.edition


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Throttling counts live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token(user):
    return tokens.token_create(user=user)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def alice_api(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def assert_error(response, status: int, code: str) -> dict:
    """The response is a JSON error with this status and code, and a message worth reading."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and len(body["message"]) > 10, body
    assert "None" not in body["message"]
    return body
