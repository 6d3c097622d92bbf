"""The error contract: every failure is JSON with a stable code and a readable message."""

from __future__ import annotations

import logging

import pytest

from leaderboard.api import errors
from leaderboard.errors import SubmissionRefused

from .conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/", "/api/nothing/here/", "/api/challenges/a/b/c/d/"])
def test_unknown_api_paths_are_json_not_found(api, path):
    body = assert_error(api.get(path), 404, "not_found")
    assert path in body["message"] and "/api/docs/" in body["message"]


def test_wrong_method_is_method_not_allowed(api, edition):
    assert_error(api.delete("/api/challenges/"), 405, "method_not_allowed")
    assert_error(api.post("/api/challenges/fmnist/", {}), 405, "method_not_allowed")


def test_user_throttle_counts_per_user(settings, alice_api, api):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "submit": "60/hour"},
    }
    for _ in range(3):
        assert alice_api.get("/api/challenges/").status_code == 200
    response = alice_api.get("/api/challenges/")
    body = assert_error(response, 429, "throttled")
    assert 0 < body["retry_after"] <= 60
    assert "try again in" in body["message"]
    assert api.get("/api/challenges/").status_code == 200  # someone else still gets through


def test_unexpected_failures_are_logged_and_reported_as_json(api, monkeypatch, caplog):
    def broken():
        raise RuntimeError("database on fire")

    monkeypatch.setattr("leaderboard.selectors.challenge_list", broken)
    with caplog.at_level(logging.ERROR, logger="leaderboard.api.errors"):
        body = assert_error(api.get("/api/challenges/"), 500, "server_error")
    assert "database on fire" not in body["message"]
    assert "database on fire" in caplog.text


@pytest.mark.parametrize(
    ("code", "status", "api_code"),
    [
        ("daily_limit", 403, "limit_reached"),
        ("total_limit", 403, "limit_reached"),
        ("edition_closed", 403, "edition_closed"),
        ("edition_not_open", 403, "edition_not_open"),
        ("file_too_large", 413, "file_too_large"),
        ("unsupported_format", 400, "unsupported_format"),
        ("pickle_refused", 400, "pickle_refused"),
        ("empty_file", 400, "empty_file"),
        ("arch_required", 400, "arch_required"),
        ("something_new", 400, "something_new"),
    ],
)
def test_every_service_refusal_maps_to_a_status_and_code(code, status, api_code):
    response = errors.exception_handler(SubmissionRefused("Because.", code=code), {})
    assert response.status_code == status
    assert response.data["code"] == api_code and response.data["message"] == "Because."
