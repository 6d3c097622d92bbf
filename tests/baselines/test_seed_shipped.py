"""seed_baselines without --retrain: the shipped weights go in as they are, in seconds, and the
worker's own scoring path measures them on the hidden set.

No training is asserted from what can be observed: the command's time, no training cache
written, and each entry's stored file having the shipped file's SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from baselines import catalogue, shipped
from evaluator.spec import InputSpec
from leaderboard import services
from leaderboard.management.commands.create_demo import FASHION_CLASSES
from leaderboard.metrics import percent
from leaderboard.models import Submission
from leaderboard.selectors.baseline_zoo import duration
from leaderboard.workflows.scoring import score_submission
from tests.leaderboard.factories import make_challenge, make_edition

FASHION = Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.skipif(
    not (FASHION / "t10k-images-idx3-ubyte.gz").is_file(), reason="Fashion-MNIST not installed"
)


@pytest.fixture
def fashion_challenge(db, settings, tmp_path: Path):
    """The demo's hidden set as create_demo imports it: Fashion-MNIST's test split, its class
    names, half public, seed 0."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_ROOT = tmp_path / "data"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    for path in (settings.MEDIA_ROOT, settings.DATA_ROOT, settings.FILE_UPLOAD_TEMP_DIR):
        Path(path).mkdir(parents=True)
    spec = InputSpec.from_dict(shipped.available()[0].record["input_spec"])
    names = tmp_path / "class_names.txt"
    names.write_text("\n".join(FASHION_CLASSES) + "\n", encoding="utf-8")
    challenge = make_challenge(slug="demo", title="Fashion-MNIST", class_names=FASHION_CLASSES)
    services.challenge_import_dataset(
        challenge=challenge, fmt="idx", source=FASHION, spec=spec, class_names_file=names
    )
    challenge.refresh_from_db()
    make_edition(challenge=challenge, year=2026)
    return challenge


def _seed(*extra: str) -> str:
    out = io.StringIO()
    call_command("seed_baselines", *extra, stdout=out)
    return out.getvalue()


def test_the_shipped_weights_go_in_in_seconds_without_training(
    fashion_challenge, enqueued: list[str], settings, django_capture_on_commit_callbacks
) -> None:
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        output = _seed("--challenge=demo")
    seconds = time.perf_counter() - started
    weights = {s.arch: s for s in shipped.available()}
    entries = {s.arch: s for s in Submission.objects.filter(is_baseline=True)}
    assert set(entries) == set(weights)
    assert sorted(enqueued) == sorted(str(s.pk) for s in entries.values())
    assert seconds < 30, f"{seconds:.1f} s: entering files should not train"
    assert "training on" not in output and "epoch" not in output
    cache = Path(settings.VAR_DIR) / "baselines"
    assert not list(cache.glob("baseline-*-*/checkpoint.pt"))
    assert not list(cache.glob("baseline-*-*/meta.json"))
    for arch, entry in entries.items():
        record = weights[arch].record
        stored = hashlib.sha256(Path(entry.file.path).read_bytes()).hexdigest()
        assert stored == record["sha256"]
        assert (entry.format, entry.arch) == ("safetensors", arch)
        assert entry.method_year == record["year"]
        assert entry.original_name == f"{arch}-{record['key']}.safetensors"
        assert catalogue.get(arch).citation in entry.description
    unshipped = [
        b.arch.removeprefix("baseline-") for b in catalogue.CATALOGUE if not shipped.get(b.arch)
    ]
    if unshipped:
        assert f"no shipped weights for {', '.join(unshipped)}: not trained here" in output

    with django_capture_on_commit_callbacks(execute=True):
        again = _seed("--challenge=demo")
    assert Submission.objects.filter(is_baseline=True).count() == len(weights)
    assert again.count(": kept submission") == len(weights)


def test_the_worker_scores_each_entry_at_its_recorded_test_error(
    fashion_challenge, enqueued: list[str], django_capture_on_commit_callbacks, client
) -> None:
    """The worker's scoring path (what the Celery task calls) on the demo's hidden set gives
    exactly the error recorded when the weights were shipped, from the same file."""
    with django_capture_on_commit_callbacks(execute=True):
        _seed("--challenge=demo")
    for entry in Submission.objects.filter(is_baseline=True):
        assert score_submission(submission_id=str(entry.pk), worker="test") == "scored"
        entry.refresh_from_db()
        record = shipped.get(entry.arch).record
        assert entry.status == Submission.Status.SCORED
        assert entry.score.record["model_sha256"] == record["sha256"]
        assert entry.score.record["dataset_fingerprint"] == record["test"]["data_fingerprint"]
        assert entry.score.top1_error == record["test"]["top1_error"], entry.arch
        low, high = record["test"]["ci95_top1_error"]
        assert low <= entry.score.top1_error <= high
    report = io.StringIO()
    call_command("baselines_report", "demo", stdout=report)
    for entry in Submission.objects.filter(is_baseline=True):
        row = next(line for line in report.getvalue().splitlines() if entry.method_name in line)
        assert f"| {100 * entry.score.top1_error:.2f}% |" in row
        training = shipped.get(entry.arch).record
        seconds = training["training"]["wall_seconds"]
        assert f"{training['epochs']} epochs in {duration(seconds)}" in row
        assert row.endswith(", shipped weights |")

    # The challenge page's baselines table shows what the worker measured, on the part of the
    # hidden set the open edition's boards show (its public half).
    page = client.get(fashion_challenge.get_absolute_url()).content.decode()
    for entry in Submission.objects.filter(is_baseline=True).select_related("score"):
        row = page[page.index(f'<tr data-network="{entry.arch}" data-state="scored">') :]
        row = row[: row.index("</tr>")]
        assert f"<b>{percent(entry.score.public_top1_error, 2)}</b>" in row
        assert f"{entry.score.record['throughput_img_s']:,.0f}</td>" in row


def test_shipped_weights_stay_off_another_data_set(
    digits_challenge, enqueued: list[str], django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        output = _seed("--challenge=digits")
    assert not Submission.objects.filter(is_baseline=True).exists()
    assert "shipped weights not entered: tested on another hidden set" in output
