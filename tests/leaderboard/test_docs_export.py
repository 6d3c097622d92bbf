"""The "Export your model" page: each recipe is shown as the file it is, and the files whose
exporter installs here are run as they are, at the demo's shape (1x28x28, 10 classes), and what
they write is checked with the evaluator's own format detector."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pytest
import torch
from django.urls import reverse
from safetensors.torch import load_file

from evaluator import architectures
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import detect_format
from leaderboard.views.docs import SNIPPETS_DIR

# Each recipe run here: the file it writes and the format the evaluator must find in it.
RUN = {
    "pytorch_onnx": ("model.onnx", ModelFormat.ONNX),
    "pytorch_pt2": ("model.pt2", ModelFormat.TORCH_EXPORT),
    "pytorch_torchscript": ("model.torchscript.pt", ModelFormat.TORCHSCRIPT),
    "pytorch_safetensors": ("model.safetensors", ModelFormat.SAFETENSORS),
    "timm_safetensors": ("model.safetensors", ModelFormat.SAFETENSORS),
    "sklearn_onnx": ("model.onnx", ModelFormat.ONNX),
}
# Not run: TensorFlow cannot be installed cheaply here. Compiled only.
NOT_RUN = {"keras_export", "keras_tf2onnx"}
NEEDS = {"timm_safetensors": "timm", "sklearn_onnx": "skl2onnx"}
# The architecture each safetensors recipe's weights must load into, strictly.
ARCH = {"pytorch_safetensors": "resnet18", "timm_safetensors": "timm/resnet18"}


def run_snippet(name: str, where: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Run the recipe's file as a script in ``where``; return its globals."""
    path = SNIPPETS_DIR / f"{name}.py"
    monkeypatch.chdir(where)
    namespace = {"__name__": "__main__", "__file__": str(path)}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return namespace


def images(n: int) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, 1, 28, 28)).astype(np.float32)


def test_every_recipe_is_run_here_or_named_as_not_run() -> None:
    assert {p.stem for p in SNIPPETS_DIR.glob("*.py")} == set(RUN) | NOT_RUN
    for name in NOT_RUN:  # at least valid Python
        path = SNIPPETS_DIR / f"{name}.py"
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


@pytest.mark.parametrize("name", sorted(RUN))
def test_a_recipe_writes_a_file_the_evaluator_accepts(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    namespace = run_snippet(name, tmp_path, monkeypatch)
    written, fmt = RUN[name]
    assert detect_format(tmp_path / written) == fmt
    if name in ARCH:  # the weights fit the network the site builds for that name
        model = architectures.build(ARCH[name], in_channels=1, num_classes=10).eval()
        model.load_state_dict(load_file(str(tmp_path / written)), strict=True)
        x = torch.from_numpy(images(3))
        with torch.inference_mode():
            torch.testing.assert_close(model(x), namespace["model"].eval()(x))


def test_the_onnx_recipe_takes_any_batch_size(tmp_path: Path, monkeypatch) -> None:
    import onnxruntime as ort

    run_snippet("pytorch_onnx", tmp_path, monkeypatch)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    for n in (1, 5):
        (out,) = session.run(None, {session.get_inputs()[0].name: images(n)})
        assert out.shape == (n, 10)


def test_the_sklearn_recipe_gives_a_label_and_plain_probabilities(tmp_path, monkeypatch) -> None:
    pytest.importorskip("skl2onnx")
    import onnxruntime as ort

    namespace = run_snippet("sklearn_onnx", tmp_path, monkeypatch)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    flat = images(4).reshape(4, -1)  # what the scorer gives a flat input
    label, probabilities = session.run(None, {session.get_inputs()[0].name: flat})
    assert label.shape == (4,) and probabilities.shape == (4, 10)  # not a ZipMap's dictionaries
    expected = namespace["clf"].predict_proba(flat)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.django_db
def test_the_page_shows_each_recipe_as_its_file_and_every_architecture(client) -> None:
    page = client.get(reverse("docs_export")).content.decode()
    for path in SNIPPETS_DIR.glob("*.py"):
        assert html.escape(path.read_text(encoding="utf-8")) in page, path.name
    for name in architectures.names():
        assert f"<code>{html.escape(name)}</code>" in page, name
    assert "the scorer flattens the images for a flat input" in page
    assert "options={'zipmap': False}" in page


@pytest.mark.django_db
def test_the_footer_and_the_submit_page_link_to_it(client, user, edition) -> None:
    url = reverse("docs_export")
    assert f'href="{url}"' in client.get(reverse("challenge_list")).content.decode()
    client.force_login(user)
    page = client.get(reverse("submit", args=[edition.challenge.slug, edition.slug]))
    assert f'href="{url}#architectures"' in page.content.decode()
