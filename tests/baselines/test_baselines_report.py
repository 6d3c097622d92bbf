"""baselines_report: the README's tables come from what the worker recorded and the cache."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluator.robustness.scoring import score_robust
from leaderboard.models import Submission
from leaderboard.services.robustness import challenge_robustness_enable
from leaderboard.services.scoring import score_record, submission_start

from .test_seed_baselines import _seed


def _report(*extra: str) -> str:
    out = io.StringIO()
    call_command("baselines_report", "digits", *extra, stdout=out)
    return out.getvalue()


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


@pytest.mark.slow
def test_report_reads_the_recorded_scores_and_the_training_run(
    digits_challenge,
    enqueued,
    tmp_path: Path,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _seed(tmp_path)
    challenge_robustness_enable(challenge=digits_challenge)
    digits_challenge.refresh_from_db()
    lenet = Submission.objects.get(is_baseline=True, method_year=1998)
    job = submission_start(submission_id=lenet.pk, worker="test")
    result = score_robust(dataset_dir=job.dataset_dir, model_path=job.model_path)
    assert score_record(submission_id=lenet.pk, attempt=job.attempt, result=result)

    output = _report(f"--cache-dir={tmp_path / 'cache'}")
    lines = output.splitlines()
    lenet_row = next(line for line in lines if line.startswith("| LeNet-5 (1998)"))
    mlp_row = next(line for line in lines if line.startswith("| MLP"))
    assert _pct(result["top1_error"]) in lenet_row and _pct(result["top5_error"]) in lenet_row
    assert f"{result['params']:,}" in lenet_row
    assert f"| {result['throughput_img_s']:,.0f} |" in lenet_row  # measured by the scoring run
    meta = json.loads(next((tmp_path / "cache").glob("baseline-lenet5-*/meta.json")).read_text())
    assert f"1 epochs, {meta['train_seconds']:.0f} s, {meta['device']}" in lenet_row
    assert "| queued |" in mlp_row  # not scored yet: no numbers invented

    robust_row = next(line for line in lines if line.startswith("| LeNet-5 |"))
    summary = result["robustness"]["summary"]["all"]
    assert _pct(summary["mean_top1_error"]) in robust_row
    rotate_90 = result["robustness"]["results"]["rotate_90"]["all"]["top1_error"]
    cells = [cell.strip() for cell in robust_row.strip("|").split("|")]
    head = next(line for line in lines if line.startswith("| network | clean top-1"))
    heads = [cell.strip() for cell in head.strip("|").split("|")]
    assert cells[heads.index("rot 90°")] == _pct(rotate_90)
    assert not any(line.startswith("| MLP |") for line in lines)  # no robustness record


def test_report_names_a_missing_challenge(db) -> None:
    with pytest.raises(CommandError, match="no challenge with slug 'digits'"):
        _report()
