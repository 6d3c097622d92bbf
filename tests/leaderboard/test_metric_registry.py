"""The metric registry read everywhere: each declared metric has its Score columns and ranking
indexes, is recorded where the evaluator's report puts it, and may rank a challenge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from evaluator.metrics import classification_report
from leaderboard import services
from leaderboard.api.serializers import metric_fields
from leaderboard.metrics import ALL, DASH, METRICS, PARTS, PRIVATE, PUBLIC, Metric, metric_get
from leaderboard.models import Challenge, Score, Submission
from leaderboard.templatetags.arena import pct

from .factories import make_scored, make_team, onnx_upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.key)
def test_every_metric_has_its_columns_and_its_ranking_indexes(metric):
    for part in PARTS:
        field = Score._meta.get_field(metric.column(part))
        assert field.null == (not (metric.required and part == ALL))
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, Score._meta.db_table)
    for part in (PUBLIC, PRIVATE):
        assert (metric.index_name(part) in indexes) == metric.indexed
    assert (metric.key in Metric.values) == metric.rankable


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.key)
def test_pages_print_each_error_as_a_percentage_and_the_api_keeps_the_fraction(metric):
    assert metric.format(0.0956) == pct(0.0956) == "9.56%"
    assert metric.format(0.09565) == "9.57%" and metric.format(0.1) == "10.00%"  # half up
    assert metric.format(None) == pct(None) == DASH
    assert "A fraction from 0 to 1" in metric_fields(lambda m: m.field)[metric.field].help_text


def test_the_board_the_history_and_the_api_agree_on_one_entry(client, edition):
    team = make_team(edition=edition, name="owls")
    make_scored(edition=edition, team=team, top1=0.0956, top5=0.0123)
    board = client.get(edition.get_absolute_url()).content.decode()
    history = client.get(edition.challenge.get_absolute_url()).content.decode()
    for page in (board, history):
        assert "9.56%" in page and "0.0956" not in page
    assert "1.23%" in board
    api = client.get(f"/api/challenges/fmnist/editions/{edition.slug}/leaderboard/").json()
    assert api["results"][0]["top1_error"] == pytest.approx(0.0956)


def test_a_result_is_recorded_where_each_declaration_says(edition, user, gpu_queue):
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 4
    logits = rng.standard_normal((40, 4)).astype(np.float32)
    logits[np.arange(40), labels] += 1.0
    result = classification_report(
        logits=logits, labels=labels, public_mask=np.arange(40) < 20, num_classes=4
    )
    result["robustness"] = {
        "summary": {part: {"mean_top1_error": 0.5 + i / 10} for i, part in enumerate(PARTS)}
    }
    submission = services.submission_create(
        edition=edition, user=user, upload=onnx_upload(), method_name="m"
    )
    job = services.submission_start(submission_id=submission.pk, worker="w")

    assert services.score_record(submission_id=submission.pk, attempt=job.attempt, result=result)

    score = Score.objects.get(submission=submission)
    for metric in METRICS:
        for part in PARTS:
            value = metric.from_report(result, part)
            assert value is not None, (metric.key, part)
            assert getattr(score, metric.column(part)) == pytest.approx(value)
    assert score.balanced_error == pytest.approx(result["balanced_error"])
    assert Submission.objects.get(pk=submission.pk).status == "scored"


def test_a_metric_the_result_lacks_is_null_and_a_required_one_is_refused():
    assert metric_get("balanced").from_report({"top1_error": 0.1}, ALL) is None
    assert metric_get("robust").from_report({"robustness": "nonsense"}, PUBLIC) is None
    with pytest.raises(ValueError, match="unknown metric"):
        metric_get("top3")


def test_create_challenge_takes_the_ranking_metric(tmp_path: Path):
    folder = tmp_path / "src"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for split, n in (("train", 12), ("test", 12)):
        np.savez(
            folder / f"{split}.npz",
            images=rng.integers(0, 256, size=(n, 6, 6), dtype=np.uint8),
            labels=np.arange(n, dtype=np.int64) % 3,
        )
    call_command(
        "create_challenge",
        "shapes",
        "--title=Shapes",
        "--format=npz",
        f"--source={folder}",
        "--channels=1",
        "--height=6",
        "--width=6",
        "--metric=balanced",
    )
    assert Challenge.objects.get(slug="shapes").primary_metric == "balanced"
    assert Challenge._meta.get_field("primary_metric").default == "top5"  # ILSVRC's


def test_the_admin_offers_every_rankable_metric(admin_client, challenge):
    html = admin_client.get(f"/admin/leaderboard/challenge/{challenge.pk}/change/").content
    for metric in METRICS:
        assert (f'<option value="{metric.key}"'.encode() in html) == metric.rankable
