"""The OpenAPI schema: valid, documented offline, and honoured by every GET (schemathesis)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate

from tests.leaderboard.factories import make_scored, make_team

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi(api, tmp_path):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    document = response.json()
    validate(document)  # openapi-spec-validator
    # drf-spectacular's own validation, failing on any warning (an undocumented view, say).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    paths = document["paths"]
    assert "/api/challenges/{slug}/editions/{edition}/submissions/" in paths
    submit = paths["/api/challenges/{slug}/editions/{edition}/submissions/"]["post"]
    assert "multipart/form-data" in submit["requestBody"]["content"]
    assert {"201", "400", "401", "403", "404", "413", "415", "429"} <= set(submit["responses"])
    assert "tokenAuth" in document["components"]["securitySchemes"]


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_their_scripts_from_this_site(client, page):
    html = client.get(page).content.decode()
    scripts = re.findall(r"""src=["']([^"']+\.js)["']""", html)
    assert scripts, html[:500]
    for src in scripts:
        assert src.startswith("/static/drf_spectacular_sidecar/"), src  # no CDN: works offline
        assert client.get(src).status_code == 200


# Loaded once at collection, through the WSGI app (the schema view touches no database).
# schemathesis's lazy ``from_fixture`` loader does not run under pytest 9, hence this form.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())


@pytest.fixture
def api_data(settings, token, edition) -> Iterator[str]:
    """A scored entry and a baseline, so some answers are not empty; yields the token key.

    The requests go through the plain WSGI handler, whose end-of-request signal would close the
    test's database connection (and its transaction): Django's test client unhooks it too.
    """
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/hour", "submit": "100000/hour"},
    }
    team = make_team(edition=edition, name="alice", users=[token.token.user])
    make_scored(edition=edition, team=team, top1=0.2, top5=0.1)
    make_scored(edition=edition, team=None, top1=0.4, top5=0.2, baseline=True)
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    try:
        yield token.key
    finally:
        for signal in signals:
            signal.connect(close_old_connections)


@schema.include(method="GET").parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_get_operations_conform_to_the_schema(case, api_data):
    """Any documented input gets a documented answer: status, content type and body."""
    case.call_and_validate(headers={"Authorization": f"Token {api_data}"})
