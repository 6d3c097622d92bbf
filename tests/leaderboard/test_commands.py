"""Management commands: create_challenge, import_dataset, create_demo, bench_leaderboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from evaluator.datasets import open_dataset
from evaluator.robustness import catalogue
from leaderboard.management.commands.create_demo import FASHION_MNIST
from leaderboard.models import Challenge, Edition, SampleImage

pytestmark = pytest.mark.django_db


@pytest.fixture
def npz_source(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    folder = tmp_path / "src"
    folder.mkdir()
    for split, n in (("train", 30), ("test", 24)):
        np.savez(
            folder / f"{split}.npz",
            images=rng.integers(0, 256, size=(n, 6, 6), dtype=np.uint8),
            labels=np.arange(n, dtype=np.int64) % 3,
        )
    return folder


def test_create_challenge_imports_the_set_and_opens_an_edition(npz_source, settings, capsys):
    call_command(
        "create_challenge",
        "shapes",
        "--title=Shapes",
        "--format=npz",
        f"--source={npz_source}",
        "--channels=1",
        "--height=8",
        "--width=8",
        "--metric=top1",
        "--daily-limit=2",
    )
    challenge = Challenge.objects.get(slug="shapes")
    assert challenge.primary_metric == "top1"
    assert challenge.n_test_images == 24 and challenge.num_classes == 3
    assert challenge.input_spec["height"] == 8
    assert challenge.dataset_dir.is_relative_to(settings.DATA_ROOT)
    assert open_dataset(challenge.dataset_dir).fingerprint == challenge.dataset_fingerprint
    assert challenge.train_data_format == "npz"
    assert SampleImage.objects.filter(challenge=challenge).count() == 3  # one per class
    edition = Edition.objects.get(challenge=challenge)
    assert edition.year == timezone.now().year and edition.daily_limit == 2
    assert edition.is_open()
    assert "imported 24 images" in capsys.readouterr().out


def test_create_challenge_ranks_by_top1_below_20_classes_and_top5_from_20(npz_source, tmp_path):
    wide = tmp_path / "wide"
    wide.mkdir()
    np.savez(
        wide / "test.npz",
        images=np.zeros((40, 6, 6), dtype=np.uint8),
        labels=np.arange(40, dtype=np.int64) % 20,
    )
    shape = ["--format=npz", "--channels=1", "--height=6", "--width=6"]
    call_command("create_challenge", "three", "--title=Three", f"--source={npz_source}", *shape)
    call_command("create_challenge", "twenty", "--title=Twenty", f"--source={wide}", *shape)
    call_command(
        "create_challenge", "chosen", "--title=C", f"--source={npz_source}", "--metric=top5", *shape
    )
    metrics = dict(Challenge.objects.values_list("slug", "primary_metric"))
    assert metrics == {"three": "top1", "twenty": "top5", "chosen": "top5"}

    Challenge.objects.filter(slug="three").update(primary_metric="balanced")
    call_command("create_challenge", "three", "--title=Three", f"--source={npz_source}", *shape)
    assert Challenge.objects.get(slug="three").primary_metric == "balanced"  # re-run keeps it


def test_create_demo_ranks_by_top1_and_moves_an_old_demo_over(tmp_path, capsys):
    digits = ["create_demo", f"--source={tmp_path / 'no-fashion'}", "--no-robustness"]
    call_command(*digits)
    assert Challenge.objects.get(slug="demo").primary_metric == "top1"  # 10 classes

    Challenge.objects.filter(slug="demo").update(primary_metric="top5")  # the old default
    capsys.readouterr()
    call_command(*digits)
    assert Challenge.objects.get(slug="demo").primary_metric == "top1"
    assert "ranked by top-1 error" in capsys.readouterr().out

    Challenge.objects.filter(slug="demo").update(primary_metric="balanced")  # a host's choice
    call_command(*digits)
    assert Challenge.objects.get(slug="demo").primary_metric == "balanced"


def test_import_dataset_replaces_the_set_and_keeps_the_spec(npz_source, settings):
    challenge = Challenge.objects.create(
        slug="s", title="S", input_spec={"channels": 1, "height": 6, "width": 6}
    )
    call_command("import_dataset", "s", "--format=npz", f"--source={npz_source}", "--limit=10")
    challenge.refresh_from_db()
    first = challenge.dataset_path
    assert challenge.n_test_images == 10 and challenge.input_spec["width"] == 6

    call_command("import_dataset", "s", "--format=npz", f"--source={npz_source}")
    challenge.refresh_from_db()
    assert challenge.dataset_path != first and challenge.n_test_images == 24
    assert (Path(settings.DATA_ROOT) / first).is_dir()  # runs still reading it are undisturbed


def test_import_dataset_errors_are_clear(npz_source, tmp_path):
    with pytest.raises(CommandError, match="no challenge 'nope'"):
        call_command("import_dataset", "nope", "--format=npz", f"--source={npz_source}")
    Challenge.objects.create(slug="s", title="S")
    with pytest.raises(CommandError, match="--channels"):
        call_command("import_dataset", "s", "--format=npz", f"--source={npz_source}")
    with pytest.raises(CommandError, match="no such file"):
        call_command(
            "import_dataset",
            "s",
            "--format=npz",
            f"--source={tmp_path / 'missing'}",
            "--channels=1",
            "--height=4",
            "--width=4",
        )


@pytest.mark.slow
@pytest.mark.skipif(not FASHION_MNIST.is_dir(), reason="Fashion-MNIST is not installed")
def test_create_demo_is_idempotent(capsys, client):
    call_command("create_demo")
    out = capsys.readouterr().out
    assert "using Fashion-MNIST" in out and "imported 10000 images" in out
    challenge = Challenge.objects.get(slug="demo")
    page = client.get(challenge.get_absolute_url()).content.decode()
    assert "Fashion-MNIST is public, labels included" in page  # the page says it is a demo
    assert challenge.num_classes == 10 and challenge.class_names[9] == "Ankle boot"
    assert SampleImage.objects.filter(challenge=challenge).count() == 20
    assert challenge.robustness and "robustness track on: 13 transformed copies" in out
    assert set(challenge.robustness_samples["images"]) >= {t["name"] for t in catalogue()}

    call_command("create_demo")
    assert "already imported" in capsys.readouterr().out
    assert Challenge.objects.count() == 1 and Edition.objects.count() == 1
    assert get_user_model().objects.filter(username="demo").count() == 1
    assert SampleImage.objects.count() == 20
    # The demo account's address is verified and primary: its mail goes where make run says.
    (address,) = EmailAddress.objects.filter(user__username="demo")
    assert (address.email, address.primary, address.verified) == ("demo@example.org", True, True)


@pytest.mark.django_db(transaction=True)  # the seeding ends with VACUUM, outside a transaction
def test_bench_leaderboard_times_both_pages_and_removes_its_rows(capsys):
    call_command(
        "bench_leaderboard",
        "--submissions=300",
        "--teams=12",
        "--baselines=3",
        "--requests=2",
        "--slug=bench-test",
        "--pages",
        "leaderboard",
        "charts",
    )
    out = capsys.readouterr().out
    assert "leaderboard page /c/bench-test/" in out and "15 rows, 4 queries" in out
    assert "charts page /c/bench-test/" in out and "15 points, 3 queries" in out
    assert not Challenge.objects.filter(slug="bench-test").exists()
