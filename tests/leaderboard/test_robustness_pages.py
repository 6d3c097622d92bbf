"""The robustness track in the site: turning it on, the worker's run, the submission page."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from evaluator import layout, robustness
from leaderboard import services
from leaderboard.models import Challenge, RobustnessRun, Submission
from leaderboard.selectors.robustness_panel import submission_robustness
from leaderboard.services.robustness import (
    robust_score_fields,
)
from leaderboard.tasks import score_robustness, score_submission

from .conftest import queued_ids
from .factories import make_edition, onnx_upload

pytestmark = pytest.mark.django_db(transaction=True)


def decode_png(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("L"))


def test_enabling_compiles_the_copies_and_renders_one_public_sample(robust_challenge):
    challenge = robust_challenge
    assert challenge.robustness
    robust_dir = layout.robust_dir(challenge.dataset_dir)
    assert sorted(p.stem for p in robust_dir.glob("*.npy")) == sorted(robustness.NAMES)
    strip = challenge.robustness_samples
    first = challenge.samples.order_by("position", "id").first()
    assert strip["sample"] == first.pk and strip["label_name"] == first.label_name
    assert set(strip["images"]) == {"clean", *robustness.NAMES}
    with first.image.open("rb") as f:
        sample = decode_png(f.read())
    with default_storage.open(strip["images"]["clean"], "rb") as f:
        np.testing.assert_array_equal(decode_png(f.read()), sample)
    with default_storage.open(strip["images"]["rotate_90"], "rb") as f:
        np.testing.assert_array_equal(decode_png(f.read()), np.rot90(sample))  # anticlockwise
    with default_storage.open(strip["images"]["hflip"], "rb") as f:
        np.testing.assert_array_equal(decode_png(f.read()), sample[:, ::-1])


def test_the_command_turns_the_track_on_and_off(compiled_challenge, capsys):
    call_command("robustness_enable", compiled_challenge.slug)
    assert "robustness track on, 13 transformed copies" in capsys.readouterr().out
    compiled_challenge.refresh_from_db()
    assert compiled_challenge.robustness
    assert compiled_challenge.robustness_samples == {}  # no samples stored: no strip
    call_command("robustness_enable", compiled_challenge.slug, "--disable")
    compiled_challenge.refresh_from_db()
    assert not compiled_challenge.robustness
    assert layout.robust_dir(compiled_challenge.dataset_dir).is_dir()  # the copies stay


def test_the_clean_score_comes_first_then_a_run_of_its_own_scores_the_copies(
    robust_challenge, user, gpu_queue, client
):
    edition = make_edition(challenge=robust_challenge)
    submission = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="linear"
    )
    gpu_queue.delete("gpu")
    assert score_submission.apply(args=[str(submission.pk)], throw=True).get() == "scored"

    # Scored and on the board, the copies not yet: their run waits on the scoring queue.
    score = Submission.objects.select_related("score").get(pk=submission.pk).score
    assert "robustness" not in score.record and score.robust_error is None
    run = RobustnessRun.objects.get(submission=submission)
    assert run.status == RobustnessRun.Status.PENDING and run.enqueued_at is not None
    assert queued_ids(gpu_queue, task="leaderboard.tasks.score_robustness") == [str(submission.pk)]
    client.force_login(user)
    html = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert 'id="robustness-pending"' in html and "submission_status.js" in html
    status = client.get(reverse("submission_status", args=[submission.pk])).json()
    assert status["final"] and status["robustness"] == "pending"

    assert score_robustness.apply(args=[str(submission.pk)], throw=True).get() == "measured"
    assert score_robustness.apply(args=[str(submission.pk)], throw=True).get() == "skipped"
    run.refresh_from_db()
    assert run.status == RobustnessRun.Status.DONE and run.attempts == 1
    score = Submission.objects.select_related("score").get(pk=submission.pk).score
    robust = score.record["robustness"]
    assert set(robust["results"]) == set(robustness.NAMES)  # JSONB keeps no key order...
    assert [t["name"] for t in robust["transforms"]] == list(robustness.NAMES)  # ...lists do
    summary = robust["summary"]
    assert score.robust_error == summary["all"]["mean_top1_error"]
    assert score.public_robust_error == summary["public"]["mean_top1_error"]
    assert score.private_robust_error == summary["private"]["mean_top1_error"]
    assert robust["clean"]["all"]["top1_error"] == score.top1_error
    assert robust["fingerprint"] and robust["timing"]["robust_seconds"] > 0
    assert score.record["n_images"] == robust["clean"]["all"]["n_images"]  # the clean run's

    assert (
        client.get(reverse("submission_status", args=[submission.pk])).json()["robustness"]
        == "done"
    )
    html = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert 'id="chart-robustness"' in html and "leaderboard/vendor/plotly.min.js" in html
    assert "Hendrycks" in html and "ImageNet-C" in html
    assert html.count('class="robust-strip"') == 1
    assert html.count("data-transform=") == 2 * len(robustness.NAMES)  # strip and table
    url = reverse("robustness_sample", args=[robust_challenge.slug, "rotate_45"])
    assert url in html
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(url.replace("rotate_45", "sheared")).status_code == 404


def test_a_track_switched_on_in_the_admin_is_set_up_by_the_worker(
    compiled_challenge, user, gpu_queue, tmp_path
):
    services.challenge_samples_from_training(
        challenge=compiled_challenge, fmt="npz", source=tmp_path / "source"
    )
    Challenge.objects.filter(pk=compiled_challenge.pk).update(robustness=True)  # the checkbox
    assert not layout.robust_dir(compiled_challenge.dataset_dir).exists()
    edition = make_edition(challenge=compiled_challenge)
    submission = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="linear"
    )
    assert score_submission.apply(args=[str(submission.pk)], throw=True).get() == "scored"
    assert score_robustness.apply(args=[str(submission.pk)], throw=True).get() == "measured"

    score = Submission.objects.select_related("score").get(pk=submission.pk).score
    assert score.robust_error is not None  # the worker compiled the copies first
    assert layout.robust_dir(compiled_challenge.dataset_dir).is_dir()
    compiled_challenge.refresh_from_db()
    strip = compiled_challenge.robustness_samples
    assert strip["sample"] == compiled_challenge.samples.order_by("position", "id").first().pk
    assert set(strip["images"]) == {"clean", *robustness.NAMES}


def test_without_the_track_a_score_has_no_robust_part(compiled_challenge, user, gpu_queue, client):
    edition = make_edition(challenge=compiled_challenge)
    submission = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="linear"
    )
    assert score_submission.apply(args=[str(submission.pk)], throw=True).get() == "scored"
    score = Submission.objects.select_related("score").get(pk=submission.pk).score
    assert "robustness" not in score.record
    assert score.robust_error is None and score.public_robust_error is None
    assert not RobustnessRun.objects.filter(submission=submission).exists()
    assert queued_ids(gpu_queue, task="leaderboard.tasks.score_robustness") == []
    client.force_login(user)
    html = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert "chart-robustness" not in html and 'id="robustness"' not in html


def stored_record() -> dict:
    """A robustness part as the evaluator writes it, for two transforms."""

    def part(top1: float, top5: float, n: int = 10) -> dict:
        return {"n_images": n, "top1_error": top1, "top5_error": top5}

    def result(public: tuple, whole: tuple) -> dict:
        out = {}
        for name, (t1, t5) in (("public", public), ("all", whole)):
            out[name] = {
                **part(t1, t5),
                "top1_relative_increase": t1 / 0.2 - 1,
                "top5_relative_increase": t5 / 0.1 - 1,
            }
        return out

    return {
        "robustness": {
            "transforms": robustness.catalogue(("rotate_45", "hflip")),
            "clean": {"public": part(0.2, 0.1), "all": part(0.25, 0.12, n=20)},
            "results": {
                "rotate_45": result((0.6, 0.3), (0.65, 0.31)),
                "hflip": result((0.3, 0.15), (0.32, 0.16)),
            },
            "summary": {
                "public": {"mean_top1_error": 0.6, "mean_top5_error": 0.3, "n_transforms": 1,
                           "relative_increase": 2.0},
                "all": {"mean_top1_error": 0.65, "mean_top5_error": 0.31, "n_transforms": 1,
                        "relative_increase": 1.6},
            },
            "summary_definition": "mean top-1 error over the corruption transforms",
        }
    }  # fmt: skip


def test_panel_shows_the_public_part_until_the_edition_closes(challenge):
    record = stored_record()
    running = submission_robustness(record=record, challenge=challenge, show_private=False)
    assert running.part == "public" and running.mean_top1 == 0.6 and running.n_images == 10
    assert [(r.name, r.top1) for r in running.rows] == [("rotate_45", 0.6), ("hflip", 0.3)]
    assert running.rows[1].control and running.rows[0].sample_url is None
    closed = submission_robustness(record=record, challenge=challenge, show_private=True)
    assert closed.part == "all" and closed.mean_top1 == 0.65 and closed.clean_top1 == 0.25
    assert submission_robustness(record={}, challenge=challenge, show_private=True) is None

    from leaderboard.charts import robustness_chart

    chart = robustness_chart(panel=running, filename="x")
    bars = chart.traces["Error"]
    assert bars["x"] == ["Clean", "Rotation 45°", "Horizontal flip (control)"]
    assert bars["y"] == [20.0, 60.0, 30.0]
    mean = next(t for name, t in chart.traces.items() if name.startswith("Mean over"))
    assert mean["y"] == [60.0, 60.0]
    top5 = chart.figure["layout"]["updatemenus"][0]["buttons"][1]["args"][0]["y"]
    assert top5 == [[10.0, 30.0, 15.0], [30.0, 30.0]]
    json.dumps(chart.figure)


def test_score_columns_come_from_the_summary():
    assert robust_score_fields(result={"top1_error": 0.1}) == {}
    fields = robust_score_fields(result=stored_record())
    assert fields == {
        "robust_error": 0.65,
        "public_robust_error": 0.6,
        "private_robust_error": None,
    }
