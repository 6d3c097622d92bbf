"""The insights panels in a real browser, for a small network trained here on Fashion-MNIST.

Set SCREENSHOT_DIR to keep the page's screenshot (insights.png) for a look.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.files.uploadedfile import SimpleUploadedFile
from torch import nn

from evaluator.datasets import load_training_split
from evaluator.spec import InputSpec
from leaderboard import services
from leaderboard.management.commands.create_demo import FASHION_CLASSES, FASHION_MNIST
from leaderboard.models import Submission
from leaderboard.tasks import score_submission
from tests.evaluator.models import export_onnx

from .factories import make_challenge, make_edition, make_user
from .test_browser import CHROMIUM, log_in, page  # noqa: F401  (the browser fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(600),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
    pytest.mark.skipif(
        not (FASHION_MNIST / "train-images-idx3-ubyte.gz").exists(),
        reason="Debian's dataset-fashion-mnist is not installed",
    ),
]
SPEC = InputSpec(channels=1, height=28, width=28)


def trained_lenet(epochs: int = 2) -> nn.Module:
    """A LeNet-like network after two quick epochs on 12,000 training images (about 85%)."""
    torch.manual_seed(0)
    images, labels = load_training_split(fmt="idx", source=FASHION_MNIST, limit=12_000)
    x = (torch.tensor(images, dtype=torch.float32) / 255.0 - 0.5) / 0.5
    y = torch.from_numpy(labels)
    net = nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )  # fmt: skip
    optimiser = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(epochs):
        for batch in torch.randperm(len(x)).split(128):
            optimiser.zero_grad()
            nn.functional.cross_entropy(net(x[batch]), y[batch]).backward()
            optimiser.step()
    return net.eval()


@pytest.fixture
def fashion_edition(settings, tmp_path: Path):
    names = tmp_path / "classes.txt"
    names.write_text("\n".join(FASHION_CLASSES) + "\n")
    challenge = make_challenge(slug="fashion", title="Fashion-MNIST")
    services.challenge_import_dataset(
        challenge=challenge,
        fmt="idx",
        source=FASHION_MNIST,
        spec=SPEC,
        class_names_file=names,
        limit=2000,
        train_source=FASHION_MNIST,
    )
    services.challenge_samples_from_training(challenge=challenge, fmt="idx", source=FASHION_MNIST)
    return make_edition(challenge=challenge)


def test_panels_render_with_every_image_loaded(page, live_server, fashion_edition, tmp_path):  # noqa: F811
    user = make_user("ada")
    model = export_onnx(trained_lenet(), tmp_path / "lenet.onnx", example=torch.zeros(2, 1, 28, 28))
    submission = services.submission_create(
        edition=fashion_edition,
        user=user,
        upload=SimpleUploadedFile("lenet.onnx", model.read_bytes()),
        method_name="LeNet, two epochs",
    )
    assert score_submission.apply(args=[str(submission.pk)], throw=True).get() == "scored"
    record = Submission.objects.get(pk=submission.pk).score.record
    assert record["insights"]["errors"] == {}
    correct = [s["guesses"][0]["class"] == s["label"] for s in record["insights"]["samples"]]
    assert np.mean(correct) >= 0.5  # a trained network: the panel shows real recognition

    log_in(page, live_server, "ada")
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"{live_server.url}{submission.get_absolute_url()}")
    section = page.locator("#insights")
    section.wait_for()
    assert page.locator("#insights figure.top5").count() == 8
    assert page.locator("#insights .guesses li.true").count() >= 4
    assert page.locator("#insights figure.occlusion").count() == 3
    broken = page.evaluate(
        "() => [...document.querySelectorAll('#insights img')]"
        ".filter(img => !img.complete || img.naturalWidth === 0).length"
    )
    assert broken == 0
    width = page.evaluate("() => document.querySelector('#insights .filters img').clientWidth")
    assert width > 100  # scaled up from its 5 x 5 pixel tiles
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(out / "insights.png"))
