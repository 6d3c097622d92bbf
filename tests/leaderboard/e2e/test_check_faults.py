"""A free model check whose worker is killed mid-run, with a real worker process: the check stays
running (its message is held, unacknowledged, by Redis) until the sweeper fails it with a
message saying so; it then costs the participant nothing and its page stops waiting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leaderboard import processes, services
from leaderboard.models import ModelCheck
from leaderboard.services.checks import WORKER_LOST

from ..factories import make_user, onnx_bytes, write_file
from .helpers import PASSWORD
from .test_faults import alive, descendants, wait_until

pytestmark = pytest.mark.slow


def test_a_check_whose_worker_is_killed_is_failed_by_the_sweep_and_costs_nothing(
    workers, digits_edition, digits_dir, settings, tmp_path
):
    settings.CELERY_TASK_DEFAULT_QUEUE = workers.queue  # checks go where the worker listens
    services.challenge_samples_from_training(
        challenge=digits_edition.challenge, fmt="npz", source=digits_dir
    )
    user = make_user("eve")
    client = Client()
    assert client.login(username="eve", password=PASSWORD)
    doomed = workers.start("doomed")
    model = write_file(tmp_path / "linear.onnx", onnx_bytes(height=28, width=28, classes=10))

    url = reverse("model_check_create", args=[digits_edition.challenge.slug, digits_edition.slug])
    response = client.post(
        url,
        {"file": SimpleUploadedFile(model.name, model.read_bytes())},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201, response.content.decode()[:2000]
    check = ModelCheck.objects.get(pk=response.json()["id"])

    # worker -> pool process -> the evaluator's sandboxed run of the model
    model_processes = wait_until(
        lambda: descendants(doomed.pid, depth=2), timeout_s=60, what="the model process"
    )
    processes.kill(doomed)  # SIGKILL to the whole worker: a machine lost, as the queue sees it
    wait_until(
        lambda: not any(alive(pid) for pid in model_processes),
        timeout_s=30,
        what="the model's process dying with its worker",
    )
    check.refresh_from_db()
    assert check.status == "running" and check.deadline is not None
    assert services.model_checks_used(user=user) == 1

    later = check.deadline + dt.timedelta(seconds=1)
    assert services.submission_sweep(now=later).checks_failed == [str(check.pk)]
    assert services.submission_sweep(now=later).checks_failed == []

    check.refresh_from_db()
    assert (check.status, check.error_message) == ("failed", WORKER_LOST)
    assert services.model_checks_used(user=user) == 0
    page = client.get(response.json()["redirect"]).content.decode()
    assert 'data-status="failed"' in page and "updates by itself" not in page
    assert "does not count against your checks; run it again" in page
