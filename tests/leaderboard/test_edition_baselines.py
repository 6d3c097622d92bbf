"""A challenge's baselines on each new edition: copied scores on the same set, queued on another,
entered after a later import; the host switches each off and on for the edition.

Real scoring (the task body with the real evaluator and sandbox, in this process), the real
Redis queue, the real hosting form and board, CSV and API.
"""

from __future__ import annotations

import csv
import io
import os
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluator.spec import InputSpec
from leaderboard import selectors, services
from leaderboard.metrics import score_columns
from leaderboard.models import Edition, Submission
from leaderboard.tasks import score_submission
from leaderboard.workflows.imports import import_dataset

from .conftest import queued_ids
from .factories import make_edition, make_user, onnx_bytes, write_file

pytestmark = pytest.mark.django_db(transaction=True)
SPEC = InputSpec(channels=1, height=8, width=8)


def queued_here(client) -> list[str]:
    """The queue's scoring messages for this database's submissions (a parallel run of other
    tests may share the broker's "gpu" list)."""
    ids = queued_ids(client)
    known = {str(pk) for pk in Submission.objects.filter(pk__in=ids).values_list("pk", flat=True)}
    return [i for i in ids if i in known]


def run_task(submission_id) -> str:
    return score_submission.apply(args=[str(submission_id)], throw=True).get()


def edition_form(challenge, *, slug: str = "spring", **overrides) -> dict:
    return {
        "challenge": challenge.pk,
        "title": "Deep learning, spring term",
        "year": 2026,
        "slug": slug,
        "opens_at": "2026-01-05T09:00",
        "closes_at": "2036-01-20T23:59",
        "time_zone": "UTC",
        "daily_limit": 3,
        "total_limit": 30,
        "max_upload_mb": 50,
        "max_team_size": 2,
        "final_submissions": 1,
        **overrides,
    }


def host_url(edition: Edition, name: str = "edition_host", **kwargs) -> str:
    return reverse(name, kwargs={"slug": edition.challenge.slug, "edition": edition.slug, **kwargs})


@pytest.fixture
def teacher(db):
    user = make_user("teacher")
    user.user_permissions.add(Permission.objects.get(codename="add_edition"))
    return user


@pytest.fixture
def scored_baseline(compiled_challenge, gpu_queue, tmp_path) -> Submission:
    """A LeNet-5 baseline entered on the 2025 edition and scored there by the real task."""
    first = make_edition(challenge=compiled_challenge, year=2025)
    model = write_file(tmp_path / "models" / "lenet5-abc123.onnx", onnx_bytes())
    baseline = services.baseline_submission_create(
        edition=first, model_path=model, method_name="LeNet-5", method_year=1998
    )
    assert queued_here(gpu_queue) == [str(baseline.pk)]
    assert run_task(baseline.pk) == "scored"
    gpu_queue.delete("gpu")
    return Submission.objects.select_related("score", "edition__challenge").get(pk=baseline.pk)


def create_from_form(client, teacher, challenge, **overrides) -> Edition:
    client.force_login(teacher)
    response = client.post(reverse("edition_create"), edition_form(challenge, **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Edition.objects.get(challenge=challenge, slug=overrides.get("slug", "spring"))


def baselines_of(edition: Edition) -> list[Submission]:
    return list(
        Submission.objects.filter(edition=edition, is_baseline=True).select_related("score")
    )


def reimport(challenge, folder: Path, *, seed: int) -> None:
    """A different hidden set for the challenge: other random images, same classes and spec."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    images = rng.integers(0, 256, size=(40, 8, 8), dtype=np.uint8)
    np.savez(folder / "test.npz", images=images, labels=np.arange(40, dtype=np.int64) % 4)
    services.challenge_import_dataset(challenge=challenge, fmt="npz", source=folder, spec=SPEC)


def test_an_edition_created_on_the_same_set_shows_the_baselines_with_their_scores_copied(
    client, teacher, scored_baseline, gpu_queue
):
    challenge = scored_baseline.edition.challenge

    spring = create_from_form(client, teacher, challenge)

    [entry] = baselines_of(spring)
    assert queued_here(gpu_queue) == []  # no scoring run: the score was copied
    assert entry.status == Submission.Status.SCORED and entry.attempts == 0
    assert (entry.method_name, entry.method_year) == ("LeNet-5", 1998)
    source = scored_baseline.score
    for column in (*score_columns(), "n_images", "public_n_images", "private_n_images"):
        assert getattr(entry.score, column) == getattr(source, column), column
    assert entry.score.record["reused_from"] == str(scored_baseline.pk)
    assert entry.score.record["dataset_fingerprint"] == challenge.dataset_fingerprint
    # One model file on disk under two names: a hard link, not a second copy of the bytes.
    assert entry.file.name != scored_baseline.file.name
    assert os.stat(entry.file.path).st_ino == os.stat(scored_baseline.file.path).st_ino
    board = client.get(spring.get_absolute_url()).content.decode()
    assert "LeNet-5" in board and entry.get_absolute_url() in board
    host_page = client.get(host_url(spring)).content.decode()
    assert 'id="baselines"' in host_page and "copied: scored on this set before" in host_page
    assert "Nothing scored yet." in host_page  # the standings preview lists teams only

    page = client.get(entry.get_absolute_url()).content.decode()
    assert 'id="score-copied"' in page and scored_baseline.get_absolute_url() in page

    # The challenge's history shows the one model once, not once per edition.
    (year,) = [
        row for row in selectors.challenge_history(challenge=challenge).years if row.baselines
    ]
    assert year.year == 1998 and [b.method for b in year.baselines] == ["LeNet-5"]

    # Entered once: the seeding command's idempotence sees the same entry (same file name).
    assert services.edition_baselines_enter(edition=spring) == []
    assert len(baselines_of(spring)) == 1


def test_on_a_different_set_the_baselines_are_queued_and_scored_on_it(
    client, teacher, scored_baseline, gpu_queue, tmp_path
):
    challenge = scored_baseline.edition.challenge
    old = challenge.dataset_fingerprint
    reimport(challenge, tmp_path / "other-set", seed=7)
    challenge.refresh_from_db()
    assert challenge.dataset_fingerprint != old

    spring = create_from_form(client, teacher, challenge)

    [entry] = baselines_of(spring)
    assert entry.status == Submission.Status.QUEUED and not hasattr(entry, "score")
    assert queued_here(gpu_queue) == [str(entry.pk)]
    assert run_task(entry.pk) == "scored"  # the worker's task body, on the new set
    entry = Submission.objects.select_related("score").get(pk=entry.pk)
    assert entry.score.record["dataset_fingerprint"] == challenge.dataset_fingerprint
    assert "reused_from" not in entry.score.record
    assert entry.score.record["model_sha256"] == scored_baseline.score.record["model_sha256"]

    # The next edition on this set copies the newest score made on it.
    autumn = create_from_form(client, teacher, challenge, slug="autumn")
    [copy] = baselines_of(autumn)
    assert copy.status == Submission.Status.SCORED
    assert copy.score.record["reused_from"] == str(entry.pk)
    assert copy.score.top1_error == entry.score.top1_error


def test_a_set_imported_after_the_edition_brings_its_baselines_then(
    client, teacher, scored_baseline, gpu_queue, settings
):
    challenge = scored_baseline.edition.challenge
    later = make_edition(challenge=challenge, year=2027)  # made without the service (admin)
    assert baselines_of(later) == []

    # The host uploads the same set again through the import workflow (same fingerprint).
    with open(Path(settings.DATA_ROOT).parent / "source" / "test.npz", "rb") as fh:
        upload = SimpleUploadedFile("test.npz", fh.read())
    row = services.dataset_upload(challenge=challenge, part="test", upload=upload, user=teacher)
    assert import_dataset(import_id=str(row.pk)) == "done"

    [entry] = baselines_of(later)
    assert entry.status == Submission.Status.SCORED
    assert entry.score.record["reused_from"] == str(scored_baseline.pk)
    assert queued_here(gpu_queue) == []


def test_an_edition_of_a_challenge_without_a_test_set_is_created_without_baselines(
    client, teacher, challenge
):
    assert not challenge.dataset_path

    spring = create_from_form(client, teacher, challenge)

    assert baselines_of(spring) == []
    page = client.get(host_url(spring)).content.decode()
    assert "No baselines yet" in page


def test_a_new_year_from_the_commands_gets_the_baselines(scored_baseline, gpu_queue):
    challenge = scored_baseline.edition.challenge

    edition, created = services.edition_get_or_create(challenge=challenge, year=2030)

    assert created
    [entry] = baselines_of(edition)
    assert entry.status == Submission.Status.SCORED and queued_here(gpu_queue) == []


def board_csv(client, edition: Edition) -> list[dict]:
    url = reverse("api:leaderboard", args=[edition.challenge.slug, edition.slug])
    text = client.get(url, {"format": "csv"}).content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def board_api(client, edition: Edition) -> list[str]:
    url = reverse("api:leaderboard", args=[edition.challenge.slug, edition.slug])
    return [row["method_name"] for row in client.get(url).json()["results"]]


def test_the_host_switches_a_baseline_off_and_on_for_the_edition(client, teacher, scored_baseline):
    challenge = scored_baseline.edition.challenge
    spring = create_from_form(client, teacher, challenge)
    [entry] = baselines_of(spring)
    switch = host_url(spring, "baseline_switch", pk=entry.pk)
    assert "LeNet-5" in client.get(spring.get_absolute_url()).content.decode()

    response = client.post(switch, {"shown": "0"})

    assert response.status_code == 302 and response["Location"].endswith("#baselines")
    entry.refresh_from_db()
    assert entry.hidden_by_host
    board = client.get(spring.get_absolute_url()).content.decode()
    assert "is off this edition's leaderboard" in unescape(board)  # the notice
    assert f'data-submission="{entry.pk}"' not in board  # the row is gone
    assert [row["method_name"] for row in board_csv(client, spring)] == []
    assert board_api(client, spring) == []
    host_page = client.get(host_url(spring)).content.decode()
    assert "Switch on" in host_page and "LeNet-5" in host_page  # still listed for the host
    # The edition it came from keeps it.
    assert "LeNet-5" in client.get(scored_baseline.edition.get_absolute_url()).content.decode()

    client.post(switch, {"shown": "1"})

    entry.refresh_from_db()
    assert not entry.hidden_by_host
    board = client.get(spring.get_absolute_url()).content.decode()
    assert f'data-submission="{entry.pk}"' in board
    rows = board_csv(client, spring)
    assert [(r["method_name"], r["baseline"]) for r in rows] == [("LeNet-5", "True")]
    assert board_api(client, spring) == ["LeNet-5"]


def test_only_the_host_switches_baselines(client, teacher, scored_baseline):
    spring = create_from_form(client, teacher, scored_baseline.edition.challenge)
    [entry] = baselines_of(spring)
    switch = host_url(spring, "baseline_switch", pk=entry.pk)

    client.force_login(make_user("student"))
    refused = client.post(switch, {"shown": "0"})
    assert refused.status_code == 403
    assert "Only the edition's hosts switch its baselines." in unescape(refused.content.decode())
    client.logout()
    assert client.post(switch, {"shown": "0"})["Location"].startswith(reverse("login"))
    entry.refresh_from_db()
    assert not entry.hidden_by_host
    # A GET changes nothing either, and a team's entry is not a baseline to switch.
    client.force_login(teacher)
    assert client.get(switch).status_code == 405
