"""leaderboard-cli against an edition whose host paused submissions (issue 16, section 3)."""

from __future__ import annotations

import pytest

from leaderboard.models import Submission
from leaderboard.services import host_control
from tests.leaderboard.factories import make_user, onnx_bytes

from .conftest import assert_failed

pytestmark = pytest.mark.django_db(transaction=True)


def test_submit_prints_the_hosts_pause_then_goes_through_once_resumed(
    cli, logged_in, edition, tmp_path
):
    model = tmp_path / "resnet.onnx"
    model.write_bytes(onnx_bytes())
    host = make_user("host")
    edition.host = host
    edition.save(update_fields=["host"])
    host_control.edition_pause(edition=edition, by=host, paused=True)

    run = cli("submit", model, "--edition", "fmnist/2025", "--method", "ResNet")
    assert_failed(run, "submissions_paused", "Submissions are paused by the host of Fashion 2025")
    assert not Submission.objects.exists()

    host_control.edition_pause(edition=edition, by=host, paused=False)
    run = cli("submit", model, "--edition", "fmnist/2025", "--method", "ResNet")
    assert run.code == 0, run.err
    assert Submission.objects.get().method_name == "ResNet"
