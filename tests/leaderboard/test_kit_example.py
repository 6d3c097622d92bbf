"""The kit's example model, end to end: create_demo (on scikit-learn's digits), the LeNet-5
baseline trained by seed_baselines, then the download run by onnxruntime on the demo's hidden
images, normalised by the page's formula, beating chance."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from django.core.management import call_command
from django.urls import reverse

from evaluator.datasets import open_dataset
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import detect_format
from leaderboard.models import Challenge, Submission
from leaderboard.selectors.kit import EXPORT_NAME, kit_dir

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
IMAGES = 300  # of the demo's 797 hidden digits


@pytest.fixture(autouse=True)
def one_thread():
    """LeNet on a thousand digits: one torch thread is faster on a shared 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _create_demo(tmp_path: Path) -> str:
    """The demo on the digits (the Fashion-MNIST path is given a folder that does not exist)."""
    missing = tmp_path / "no-fashion-mnist"
    return _command("create_demo", f"--source={missing}", "--no-robustness")


def _seed_lenet(tmp_path: Path, submit_format: str) -> Submission:
    _command(
        "seed_baselines",
        "--challenge=demo",
        "--model=lenet5",
        "--epochs=8",
        "--batch-size=16",  # 50 steps an epoch on 800 digits
        "--device=cpu",
        "--jobs=1",
        f"--submit-format={submit_format}",
        f"--cache-dir={tmp_path / 'cache'}",
        "--verbosity=0",
    )
    return Submission.objects.get(is_baseline=True, method_name="LeNet-5")


def _download(client, folder: Path) -> Path:
    response = client.get(reverse("kit_example", kwargs={"slug": "demo"}))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="demo-example.onnx"'
    path = folder / "demo-example.onnx"
    path.write_bytes(b"".join(response.streaming_content))
    return path


def _accuracy(path: Path, challenge: Challenge) -> float:
    """Top-1 accuracy on the first hidden images, fed as the page says:
    x = (pixel/255 - mean[c]) / std[c]."""
    dataset = open_dataset(challenge.dataset_dir)
    pixels = np.asarray(dataset.images[:IMAGES], dtype=np.float32)
    mean = np.asarray(challenge.input_spec["mean"], dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(challenge.input_spec["std"], dtype=np.float32).reshape(1, -1, 1, 1)
    x = ((pixels / 255 - mean) / std).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert logits.shape == (IMAGES, challenge.num_classes)
    return float((logits.argmax(1) == dataset.labels[:IMAGES]).mean())


def test_a_safetensors_lenet_is_exported_once_by_create_demo_and_beats_chance(
    client, tmp_path: Path
):
    assert "no baseline entry yet" in _create_demo(tmp_path)
    page = client.get("/c/demo/").content.decode()
    assert "No example model yet" in page and 'id="kit-example-link"' not in page

    entry = _seed_lenet(tmp_path, "safetensors")
    assert entry.format == "safetensors" and entry.arch == "baseline-lenet5"
    page = client.get("/c/demo/").content.decode()
    assert "LeNet-5" in page and "not exported to ONNX yet" in page  # never in the request
    assert client.get(reverse("kit_example", kwargs={"slug": "demo"})).status_code == 404

    assert "example model LeNet-5 exported to ONNX" in _create_demo(tmp_path)
    challenge = Challenge.objects.get(slug="demo")
    exported = kit_dir(challenge=challenge) / EXPORT_NAME
    assert 'id="kit-example-link"' in client.get("/c/demo/").content.decode()
    path = _download(client, tmp_path)
    assert path.read_bytes() == exported.read_bytes()
    assert detect_format(path) is ModelFormat.ONNX
    accuracy = _accuracy(path, challenge)
    assert accuracy > 0.5, accuracy  # chance: 0.1

    stamp = exported.stat().st_mtime_ns
    assert "exported before" in _create_demo(tmp_path)
    assert exported.stat().st_mtime_ns == stamp


def test_an_onnx_lenet_is_offered_as_submitted_and_beats_chance(client, tmp_path: Path):
    _create_demo(tmp_path)
    entry = _seed_lenet(tmp_path, "onnx")
    assert "its ONNX entry" in _create_demo(tmp_path)
    challenge = Challenge.objects.get(slug="demo")
    assert not (kit_dir(challenge=challenge) / EXPORT_NAME).exists()  # nothing written
    path = _download(client, tmp_path)
    assert path.read_bytes() == entry.file.open("rb").read()
    accuracy = _accuracy(path, challenge)
    assert accuracy > 0.5, accuracy
