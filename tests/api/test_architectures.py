"""GET /api/architectures/: every name a safetensors file can give, with its family."""

from __future__ import annotations

import pytest

from evaluator import architectures

pytestmark = pytest.mark.django_db


def test_every_registered_name_is_listed_with_its_family(api):
    body = api.get("/api/architectures/").json()

    names = [row["name"] for row in body["results"]]
    assert names == architectures.names() and body["count"] == len(names)
    family = {row["name"]: row["family"] for row in body["results"]}
    assert family["resnet18"] == "torchvision"
    assert family["timm/resnet18"] == family["timm/efficientnet_b0"] == "timm"
    if "baseline-lenet5" in family:  # the baselines plugin, where the project is installed
        assert family["baseline-lenet5"] == "baselines"
    assert set(family.values()) <= {"torchvision", "timm", "baselines"}


def test_it_is_public_and_in_the_schema(api):
    assert api.get("/api/architectures/").status_code == 200  # no token
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/architectures/"]["get"]
    assert "200" in operation["responses"]
