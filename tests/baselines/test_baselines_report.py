"""baselines_report: the README's tables come from what the worker recorded and the cache."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from baselines import catalogue
from baselines.epoch_time import recorded
from evaluator.robustness.scoring import score_robust
from leaderboard.models import Score, Submission
from leaderboard.selectors.baseline_zoo import duration
from leaderboard.services.robustness import challenge_robustness_enable
from leaderboard.services.scoring import score_record, submission_start
from tests.leaderboard.factories import make_challenge, make_edition, make_scored

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
    assert f"| 1 epochs in {duration(meta['train_seconds'])}, {meta['device']} |" in lenet_row
    assert "| being scored |" in mlp_row  # not scored yet: no numbers invented
    assert "| 5 |" in lenet_row  # LeNet-5's layers with weights

    robust_row = next(line for line in lines if line.startswith("| LeNet-5 |"))
    summary = result["robustness"]["summary"]["all"]
    assert _pct(summary["mean_top1_error"]) in robust_row
    rotate_90 = result["robustness"]["results"]["rotate_90"]["all"]["top1_error"]
    cells = [cell.strip() for cell in robust_row.strip("|").split("|")]
    head = next(line for line in lines if line.startswith("| network | clean top-1"))
    heads = [cell.strip() for cell in head.strip("|").split("|")]
    assert cells[heads.index("rot 90°")] == _pct(rotate_90)
    assert not any(line.startswith("| MLP |") for line in lines)  # no robustness record

    # Every catalogued network has its row; those without entries say why, with the cost of
    # an epoch where one was measured (the shipped weights were made for another hidden set).
    table = [line for line in lines if line.startswith("| ") and "(" in line.split("|")[1]]
    for network in catalogue.CATALOGUE:
        row = next(line for line in table if line.startswith(f"| {network.method_name} ("))
        assert f"({network.year}) | {network.depth} |" in row
        if network.arch in ("baseline-lenet5", "baseline-mlp"):
            continue
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[2] == "not trained here" and cells[3:7] == ["", "", "", ""]
        measured = recorded(network.arch)
        if measured is not None:
            minutes = measured["estimated_cpu_seconds_per_epoch"] / 60
            assert f"about {minutes:,.0f} min of a CPU core" in cells[7]
    assert not any(line.startswith("- ") for line in lines)  # one network scored: no verdict


def test_report_names_a_missing_challenge(db) -> None:
    with pytest.raises(CommandError, match="no challenge with slug 'digits'"):
        _report()


def test_stdout_is_the_readme_markdown_with_whether_deeper_did_better(db, tmp_path) -> None:
    """Scores as the worker stores them (rows written directly): the table over the whole set,
    then the two verdicts; the edition read goes to stderr, not into the README's text."""
    challenge = make_challenge(slug="digits", primary_metric="top1")
    edition = make_edition(challenge=challenge, year=2026)
    # (network, top-1 error on the whole set, robust error): deeper is better clean, not robust.
    for arch, top1, robust in (
        ("baseline-mlp", 0.12, 0.3961),
        ("baseline-lenet5", 0.0983, 0.4430),
        ("baseline-alexnet-small", 0.0833, 0.4295),
    ):
        network = catalogue.get(arch)
        entry = make_scored(
            edition=edition,
            team=None,
            top1=top1,
            top5=top1 / 40,
            baseline=True,
            method=network.method_name,
            method_year=network.year,
            arch=arch,
            record={"params": 1000, "throughput_img_s": 2000.0},
        )
        Score.objects.filter(submission=entry).update(robust_error=robust)
    out, err = io.StringIO(), io.StringIO()
    call_command("baselines_report", "digits", f"--cache-dir={tmp_path}", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("| network (paper year) | layers | top-1 error |")
    assert "3 scored" in err.getvalue() and "entries" not in out.getvalue()
    lenet = next(line for line in lines if line.startswith("| LeNet-5 (1998) |"))
    assert lenet == "| LeNet-5 (1998) | 5 | 9.83% | 0.25% | 44.30% | 1,000 | 2,000 |  |"
    clean = next(line for line in lines if line.startswith("- Clean top-1 error: "))
    assert "each deeper network did better here" in clean
    robust = next(line for line in lines if line.startswith("- Robust error"))
    assert "deeper was not better at every step here" in robust
    assert "LeNet-5 (5 layers) 44.30% against MLP 784-30-10, sigmoid (Nielsen) (2 layers)" in (
        robust
    )
