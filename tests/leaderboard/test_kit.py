"""The challenge page's starting kit: what the model gets, the public downloads, and that no
kit URL ever serves the hidden test set (its upload or its compiled files)."""

from __future__ import annotations

import html
import re
import uuid
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from leaderboard import urls_kit
from leaderboard.models import DatasetImport, Submission
from leaderboard.selectors.kit import CLASSES_OPEN_UP_TO

from .factories import make_challenge, make_edition, make_scored, make_user, onnx_bytes, write_file

pytestmark = pytest.mark.django_db


def _page(client, challenge) -> str:
    response = client.get(challenge.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def _panel(page: str) -> str:
    start = page.index('id="get-started"')
    return page[start : page.index("</section>", start)]


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _import_row(challenge, *, part: str, data: bytes, name: str, status="done", **fields):
    """A DatasetImport whose upload is stored where the hosting service stores uploads."""
    from django.conf import settings

    row_id = uuid.uuid4()
    relative = Path("uploads") / challenge.slug / str(row_id) / name
    write_file(Path(settings.DATA_ROOT) / relative, data)
    return DatasetImport.objects.create(
        id=row_id,
        challenge=challenge,
        part=part,
        upload_path=fields.pop("upload_path", str(relative)),
        original_name=name,
        size_bytes=len(data),
        status=status,
        **fields,
    )


def test_the_panel_gives_the_formula_with_the_challenges_numbers_and_the_classes_in_order(
    client,
):
    names = [f"class {i:02d}" for i in range(CLASSES_OPEN_UP_TO + 5)]
    spec = {
        "channels": 3,
        "height": 32,
        "width": 32,
        "mean": [0.5, 0.25, 0.125],
        "std": [0.2, 0.4, 0.8],
        "resize_short": 36,
    }
    challenge = make_challenge(slug="rgb", input_spec=spec, class_names=names)
    make_edition(challenge=challenge, year=2025)
    panel = html.unescape(_panel(_page(client, challenge)))

    assert '<code id="kit-input-shape">[N, 3, 32, 32]</code> float32' in panel
    assert '<code id="kit-output-shape">[N, 25]</code>' in panel
    formulas = re.findall(r'<code class="kit-formula">(.*?)</code>', panel)
    assert formulas == [
        "x = (pixel/255 - 0.5) / 0.2",
        "x = (pixel/255 - 0.25) / 0.4",
        "x = (pixel/255 - 0.125) / 0.8",
    ]
    assert "c = 0 (red)" in panel and "c = 2 (blue)" in panel
    assert "short side is resized to 36 px" in panel and "centre 32 x 32 is cropped" in panel
    classes = re.search(
        r'<details id="kit-classes"( open)?>.*?<ol class="kit-class-list" start="0">(.*?)</ol>',
        panel,
        re.S,
    )
    assert classes.group(1) is None  # 25 names: collapsed
    assert re.findall(r"<li>(.*?)</li>", classes.group(2)) == names
    assert "--edition rgb/2025 " in panel


def test_a_small_grey_challenge_lists_its_classes_open_and_resizes_only_when_needed(client):
    challenge = make_challenge(
        input_spec={"channels": 1, "height": 28, "width": 28, "mean": [0.286], "std": [0.353]},
        class_names=["T-shirt/top", "Trouser", "Bag & co"],
    )
    panel = html.unescape(_panel(_page(client, challenge)))
    assert '<code id="kit-input-shape">[N, 1, 28, 28]</code>' in panel
    assert re.findall(r'<code class="kit-formula">(.*?)</code>', panel) == [
        "x = (pixel/255 - 0.286) / 0.353"
    ]
    assert "exactly 28 x 28 are used as they are" in panel
    assert '<details id="kit-classes" open>' in panel
    assert "<li>T-shirt/top</li><li>Trouser</li><li>Bag & co</li>" in panel
    # No edition takes entries: the command says so rather than name a closed one.
    assert "--edition fmnist/EDITION " in panel and "No edition takes submissions now" in panel


def test_classes_txt_is_one_name_a_line_in_index_order(client):
    challenge = make_challenge(class_names=["T-shirt/top", "Café", "Ankle boot"])
    response = client.get(reverse("kit_classes", kwargs={"slug": challenge.slug}))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode("utf-8") == "T-shirt/top\nCafé\nAnkle boot\n"
    assert 'href="/c/fmnist/kit/classes.txt" download' in _page(client, challenge)


def test_the_training_download_is_the_newest_imported_upload_with_its_name(client):
    challenge = make_challenge()
    older = _import_row(challenge, part="train", data=b"old" * 10, name="old.zip")
    DatasetImport.objects.filter(pk=older.pk).update(created_at=timezone.now().replace(year=2020))
    payload = np.random.default_rng(0).bytes(70_000)
    _import_row(challenge, part="train", data=payload, name="fmnist-train.zip")
    _import_row(challenge, part="train", data=b"half", name="broken.zip", status="failed")

    response = client.get(reverse("kit_training_set", kwargs={"slug": challenge.slug}))
    assert response.status_code == 200
    assert _body(response) == payload
    assert response["Content-Disposition"] == 'attachment; filename="fmnist-train.zip"'
    panel = _panel(_page(client, challenge))
    assert 'id="kit-training-link"' in panel and "fmnist-train.zip</a> (68.4\xa0KB)" in panel


def test_without_a_training_set_or_an_input_spec_the_panel_says_so(client):
    challenge = make_challenge()
    _import_row(challenge, part="train", data=b"queued", name="t.zip", status="queued")
    assert 'id="kit-no-training"' in _panel(_page(client, challenge))
    url = reverse("kit_training_set", kwargs={"slug": challenge.slug})
    assert client.get(url).status_code == 404

    empty = make_challenge(slug="empty", input_spec={}, class_names=[])
    assert "not imported yet" in _panel(_page(client, empty))
    assert client.get(reverse("kit_classes", kwargs={"slug": "empty"})).status_code == 404


def test_no_kit_url_serves_the_hidden_test_set(client, compiled_challenge, settings):
    """Every kit URL, with every query a curious student might add, against a training row
    that is a copy of the test upload, or points at it or at the compiled set: none returns
    their bytes."""
    challenge = compiled_challenge
    secret = b"HIDDEN-TEST-SET" + np.random.default_rng(1).bytes(5000)
    test_row = _import_row(challenge, part="test", data=secret, name="test.zip")
    test_path = Path(settings.DATA_ROOT) / test_row.upload_path
    compiled = [p.read_bytes() for p in sorted(challenge.dataset_dir.rglob("*.npy"))]
    assert len(compiled) >= 3  # images, labels, split

    labels = f"{challenge.dataset_path}/labels/labels.npy"
    pointing_at = [
        test_row.upload_path,  # the test upload itself
        f"uploads/{challenge.slug}/../../{labels}",  # out of the uploads, to the compiled set
        str(challenge.dataset_dir / "images" / "images.npy"),  # an absolute path
    ]
    attempts = [lambda: _import_row(challenge, part="train", data=secret, name="copy.zip")]
    attempts += [
        lambda path=path: _import_row(
            challenge, part="train", data=b"", name="x.zip", upload_path=path
        )
        for path in pointing_at
    ]
    kwargs = {"slug": challenge.slug}
    queries = ["", "?part=test", f"?id={test_row.pk}", f"?path={test_row.upload_path}"]
    for attempt in attempts:
        DatasetImport.objects.filter(part="train").delete()
        attempt()
        for pattern in urls_kit.urlpatterns:
            for query in queries:
                response = client.get(reverse(pattern.name, kwargs=kwargs) + query)
                body = _body(response)
                assert secret not in body and b"HIDDEN-TEST-SET" not in body
                assert not any(part[128:] in body for part in compiled)
        assert client.get(reverse("kit_training_set", kwargs=kwargs)).status_code == 404
        page = _page(client, challenge)
        assert 'id="kit-training-link"' not in page and str(test_row.pk) not in page
    assert test_path.read_bytes() == secret  # still there, never served


def test_hosts_get_the_data_link_and_participants_do_not(client):
    host, student = make_user("host"), make_user("student")
    challenge = make_challenge(created_by=host)
    client.force_login(student)
    assert 'id="kit-data-link"' not in _page(client, challenge)
    client.force_login(host)
    link = reverse("challenge_data", kwargs={"slug": challenge.slug})
    assert f'id="kit-data-link" href="{link}"' in _page(client, challenge)


def test_the_description_is_markdown_cleaned(client):
    challenge = make_challenge(description="Use **all** classes.\n\n<script>alert(1)</script>")
    page = _page(client, challenge)
    assert "<strong>all</strong>" in page and "<script>alert(1)" not in page


def _baseline(edition, *, name: str, top1: float | None, size: int, fmt: str = "onnx"):
    """A baseline entry with a real ONNX file (scored when ``top1`` is given)."""
    from django.conf import settings

    data = onnx_bytes()  # the same tiny network for all; the size is the row's
    fields = {"original_name": name, "format": fmt, "size_bytes": size}
    if top1 is None:
        entry = Submission.objects.create(
            edition=edition, is_baseline=True, method_name=name, status="queued", **fields
        )
    else:
        entry = make_scored(
            edition=edition, team=None, top1=top1, top5=top1, baseline=True, method=name, **fields
        )
    entry.file.name = f"submissions/{edition.pk}/{entry.pk}"
    entry.save(update_fields=["file"])
    write_file(Path(settings.MEDIA_ROOT) / entry.file.name, data)
    return entry


def test_the_example_is_lenet_first_and_never_one_scored_at_chance(client):
    challenge = make_challenge()  # 4 classes: chance is a top-1 error of 0.75
    edition = make_edition(challenge=challenge)
    url = reverse("kit_example", kwargs={"slug": challenge.slug})
    assert "No example model yet" in _panel(_page(client, challenge))
    assert client.get(url).status_code == 404

    mlp = _baseline(edition, name="baseline-mlp-1.onnx", top1=0.5, size=10)
    _baseline(edition, name="baseline-alexnet-small-1.onnx", top1=0.2, size=900)
    lenet = _baseline(edition, name="baseline-lenet5-1.onnx", top1=0.8, size=50)
    panel = _panel(_page(client, challenge))
    assert "baseline-mlp-1.onnx trained by the platform, top-1 error 50.00%" in panel
    assert "(chance: 75.00%)" in panel and mlp.get_absolute_url() in panel

    Submission.objects.filter(pk=lenet.pk).update(status="failed")
    better = _baseline(edition, name="baseline-lenet5-2.onnx", top1=None, size=50)
    response = client.get(url)
    assert response["Content-Disposition"] == 'attachment; filename="fmnist-example.onnx"'
    assert _body(response) == better.file.open("rb").read()
    assert better.get_absolute_url() in _panel(_page(client, challenge))


def test_the_panel_says_how_to_normalise_raw_pixels_in_one_line(client):
    """The line runs: it turns raw 0..1 pixels into what the scorer feeds."""
    import numpy as np

    spec = {
        "channels": 3,
        "height": 4,
        "width": 4,
        "mean": [0.5, 0.25, 0.1],
        "std": [0.2, 0.4, 0.8],
    }
    challenge = make_challenge(slug="raw", input_spec=spec, class_names=["a", "b"])
    make_edition(challenge=challenge, year=2025)
    panel = html.unescape(_panel(_page(client, challenge)))
    line = re.search(r'id="kit-raw">.*?<code>(.*?)</code>', panel).group(1)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3))
    scope = {"np": np, "X_raw": pixels / 255}
    exec(line, scope)  # the page's own line
    expected = (pixels / 255 - np.array(spec["mean"])) / np.array(spec["std"])
    assert np.allclose(scope["X"], expected)
