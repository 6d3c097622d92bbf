"""``leaderboard-cli architectures`` against a live site over HTTP."""

from __future__ import annotations

import json

import pytest

from .conftest import assert_failed

pytestmark = pytest.mark.django_db(transaction=True)


def test_lists_every_name_with_its_family_without_a_token(cli, server):
    run = cli("architectures", "--server", server)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].split() == ["family", "architecture"]
    rows = {tuple(line.split()) for line in lines[2:] if line.strip()}
    assert ("timm", "timm/efficientnet_b0") in rows and ("torchvision", "resnet18") in rows
    assert "--arch NAME" in run.out


def test_family_filter_and_json(cli, server):
    found = json.loads(cli("architectures", "--family", "timm", "--json", "--server", server).out)
    assert found["count"] == len(found["results"]) >= 12
    assert {row["family"] for row in found["results"]} == {"timm"}
    assert all(row["name"].startswith("timm/") for row in found["results"])


def test_an_unknown_family_names_the_families(cli, server):
    run = cli("architectures", "--family", "keras", "--server", server)
    assert_failed(run, "not_found", "'keras'", "timm", "torchvision")
