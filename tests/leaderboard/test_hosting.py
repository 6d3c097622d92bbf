"""Hosting from the browser: who may host, a challenge made from an uploaded zip of class
folders, the import run by its workflow, hostile and oversize uploads, and the training set.

The import runs through ``leaderboard.workflows.import_dataset`` itself (what the Celery task
calls); the browser walk with a real worker is in ``test_hosting_browser.py``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from leaderboard import workflows
from leaderboard.models import Challenge, DatasetImport, Edition, SampleImage
from leaderboard.rich_text import markdown_html

CLASSES = ("cat", "dog", "eel")


def class_folders(root: Path, *, per_class: int = 4, seed: int = 0) -> Path:
    """PNG and JPEG images written by PIL, one folder per class."""
    rng = np.random.default_rng(seed)
    for index, name in enumerate(CLASSES):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)
            pixels[..., index] = 255  # each class has its own colour
            ext = "png" if i % 2 else "jpg"
            Image.fromarray(pixels).save(folder / f"{i}.{ext}")
    return root


def zipped(root: Path, *, top: str = "flowers") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, f"{top}/{path.relative_to(root)}")
    return buffer.getvalue()


def upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def host(db, django_user_model):
    user = django_user_model.objects.create_user("teacher", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="add_challenge"))
    return user


def form_data(**extra) -> dict:
    return {
        "title": "Pets",
        "slug": "pets",
        "description": "Tell **cats** from dogs <script>alert(1)</script>",
        "channels": "3",
        "height": "16",
        "width": "16",
        "resize_short": "",
        "mean": "0.5",
        "std": "0.25",
        "public_fraction": "0.5",
        "seed": "0",
        "primary_metric": "top1",
        "year": "2027",
        "closes_at": "2030-01-01T12:00",
        "class_names": "",
        **extra,
    }


def run_imports() -> list[str]:
    """Run every queued import, oldest first, as the worker would."""
    done = []
    for row in DatasetImport.objects.filter(status="queued").order_by("created_at"):
        done.append(workflows.import_dataset(import_id=str(row.pk)))
    return done


def test_who_may_host(client, db, django_user_model, settings):
    url = reverse("challenge_create")
    assert client.get(url).status_code == 302  # to the login page
    django_user_model.objects.create_user("student", password="pw")
    client.login(username="student", password="pw")
    response = client.get(url)
    assert response.status_code == 403
    assert "Can add challenge" in response.content.decode()
    settings.HOSTS_SELF_SERVE = True
    assert client.get(url).status_code == 200


def test_a_challenge_from_a_zip_of_class_folders(client, host, tmp_path, settings):
    data = zipped(class_folders(tmp_path / "src"))
    client.login(username="teacher", password="pw")
    response = client.post(
        reverse("challenge_create"), {**form_data(), "test_set": upload("pets.zip", data)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    challenge = Challenge.objects.get(slug="pets")
    assert challenge.created_by == host and challenge.primary_metric == "top1"
    edition = Edition.objects.get(challenge=challenge)
    assert edition.host == host
    row = DatasetImport.objects.get(challenge=challenge)
    assert (row.status, row.part, row.original_name) == ("queued", "test", "pets.zip")
    assert not challenge.dataset_path  # compiled on a worker, never in the request

    assert run_imports() == ["done"]
    row.refresh_from_db()
    challenge.refresh_from_db()
    assert (row.fmt, row.done, row.total) == ("imagefolder", 12, 12)
    assert row.images_per_second and row.images_per_second > 0
    assert challenge.class_names == list(CLASSES) and challenge.n_test_images == 12
    assert [c["count"] for c in row.report["class_counts"]] == [4, 4, 4]
    assert len(row.report["strip"]) == 3
    assert challenge.input_spec["mean"] == [0.5, 0.5, 0.5]

    # The same images through manage.py import_dataset give the same fingerprint.
    Challenge.objects.create(slug="pets-cli", title="Pets by command")
    call_command(
        "import_dataset",
        "pets-cli",
        "--format=imagefolder",
        f"--source={tmp_path / 'src'}",
        "--channels=3",
        "--height=16",
        "--width=16",
        "--mean",
        *["0.5"] * 3,
        "--std",
        *["0.25"] * 3,
        "--samples-per-class=0",
    )
    assert (
        Challenge.objects.get(slug="pets-cli").dataset_fingerprint == challenge.dataset_fingerprint
    )

    page = client.get(reverse("challenge_data", kwargs={"slug": "pets"})).content.decode()
    assert "12 images, 3 classes" in page and "data:image/png;base64," in page


def test_a_hostile_archive_fails_with_its_reason_and_leaves_nothing(
    client, host, tmp_path, settings
):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cat/0.png", b"x")
        archive.writestr("../../escape.txt", b"gotcha")
    client.login(username="teacher", password="pw")
    client.post(
        reverse("challenge_create"),
        {**form_data(), "test_set": upload("evil.zip", buffer.getvalue())},
    )
    assert run_imports() == ["failed"]
    row = DatasetImport.objects.get()
    assert "../../escape.txt" in row.error_message
    challenge = Challenge.objects.get(slug="pets")
    assert not challenge.dataset_path
    data_root = Path(settings.DATA_ROOT)
    assert not list(data_root.rglob("escape.txt"))
    assert not (data_root / "challenges" / "pets").exists() or not list(
        (data_root / "challenges" / "pets").iterdir()
    )
    upload_dir = (data_root / row.upload_path).parent
    assert [p.name for p in upload_dir.iterdir()] == ["evil.zip"]  # no unpacked leftovers

    # The host uploads a good set again from the data page.
    good = zipped(class_folders(tmp_path / "src"))
    client.post(
        reverse("dataset_upload", kwargs={"slug": "pets"}),
        {"part": "test", "file": upload("good.zip", good)},
    )
    assert run_imports() == ["done"]
    challenge.refresh_from_db()
    assert challenge.n_test_images == 12


def test_an_upload_over_the_cap_is_refused_before_it_is_stored(client, host, settings):
    settings.DATASET_UPLOAD_MAX_BYTES = 100_000
    client.login(username="teacher", password="pw")
    response = client.post(
        reverse("challenge_create"),
        {**form_data(), "test_set": upload("big.zip", b"\0" * 300_000)},
    )
    assert response.status_code == 413
    assert "larger than this site" in response.content.decode()
    assert not Challenge.objects.exists() and not DatasetImport.objects.exists()
    uploads = Path(settings.DATA_ROOT) / "uploads"
    assert not uploads.exists() or not list(uploads.rglob("*.zip"))


def test_the_training_set_gives_the_samples_and_must_match_the_classes(client, host, tmp_path):
    client.login(username="teacher", password="pw")
    client.post(
        reverse("challenge_create"),
        {
            **form_data(),
            "test_set": upload("test.zip", zipped(class_folders(tmp_path / "test"))),
            "train_set": upload("train.zip", zipped(class_folders(tmp_path / "train", seed=1))),
        },
    )
    assert run_imports() == ["done", "done"]
    challenge = Challenge.objects.get(slug="pets")
    assert sorted(
        SampleImage.objects.filter(challenge=challenge).values_list("label_name", flat=True)
    ) == list(CLASSES)

    wrong = tmp_path / "wrong"
    (wrong / "cat").mkdir(parents=True)
    (wrong / "owl").mkdir()
    for name in ("cat", "owl"):
        for i in range(2):
            Image.new("RGB", (8, 8), (i, 2, 3)).save(wrong / name / f"{i}.png")
    client.post(
        reverse("dataset_upload", kwargs={"slug": "pets"}),
        {"part": "train", "file": upload("wrong.zip", zipped(wrong))},
    )
    assert run_imports() == ["failed"]
    message = DatasetImport.objects.filter(part="train").first().error_message
    assert "2 classes" in message and "owl" in message and "3" in message


def test_only_hosts_see_the_data_page_and_its_progress(client, host, tmp_path, django_user_model):
    client.login(username="teacher", password="pw")
    client.post(
        reverse("challenge_create"),
        {**form_data(), "test_set": upload("t.zip", zipped(class_folders(tmp_path / "s")))},
    )
    row = DatasetImport.objects.get()
    progress = reverse("import_progress", kwargs={"slug": "pets", "pk": row.pk})
    assert client.get(progress).json()["status"] == "queued"
    django_user_model.objects.create_user("student", password="pw")
    client.login(username="student", password="pw")
    assert client.get(reverse("challenge_data", kwargs={"slug": "pets"})).status_code == 403
    assert client.get(progress).status_code == 403


def test_descriptions_are_markdown_with_the_html_cleaned():
    html = markdown_html("Tell **cats** <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>cats</strong>" in html
    assert "<script" not in html and "javascript:" not in html


def test_an_automatic_metric_is_top1_below_20_classes(client, host, tmp_path):
    client.login(username="teacher", password="pw")
    client.post(
        reverse("challenge_create"),
        {
            **form_data(primary_metric="auto"),
            "test_set": upload("t.zip", zipped(class_folders(tmp_path / "s"))),
        },
    )
    assert run_imports() == ["done"]
    assert Challenge.objects.get(slug="pets").primary_metric == "top1"  # 3 classes


def test_metric_for_classes_switches_to_top5_at_20():
    from leaderboard.metrics import metric_for_classes

    assert [metric_for_classes(n) for n in (2, 10, 19, 20, 1000)] == [
        "top1", "top1", "top1", "top5", "top5",
    ]  # fmt: skip


def test_an_import_that_cannot_be_queued_fails_with_a_message(
    client, host, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    """The broker refuses the connection: the host is told to upload again, nothing hangs."""
    from leaderboard.celery import app as celery_app

    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    client.login(username="teacher", password="pw")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("challenge_create"),
            {**form_data(), "test_set": upload("t.zip", zipped(class_folders(tmp_path / "s")))},
        )
    row = DatasetImport.objects.get()
    assert row.status == "failed" and "upload the file again" in row.error_message
