"""The starting kit's code blocks, run as the page shows them: each export makes a file the
evaluator accepts, and the preprocessing computes the page's own formula."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from django.urls import reverse
from PIL import Image
from torch import nn

from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import detect_format
from evaluator.formats.loaders import load_safetensors
from evaluator.formats.onnx_check import check_onnx
from evaluator.spec import InputSpec
from leaderboard.models import Submission

from .factories import make_challenge, make_edition, onnx_bytes, write_file

pytestmark = pytest.mark.django_db
GREY = {"channels": 1, "height": 28, "width": 28, "mean": [0.286], "std": [0.353]}
RGB = {
    "channels": 3,
    "height": 24,
    "width": 20,
    "mean": [0.485, 0.456, 0.406],
    "std": [0.229, 0.224, 0.225],
    "resize_short": 30,
}
SPECS = pytest.mark.parametrize("spec", [GREY, RGB], ids=["grey", "rgb"])


def _code_blocks(client, spec: dict, num_classes: int = 5) -> dict[str, str]:
    challenge = make_challenge(
        slug="kit", input_spec=spec, class_names=[f"c{i}" for i in range(num_classes)]
    )
    make_edition(challenge=challenge)
    page = client.get(challenge.get_absolute_url()).content.decode()
    blocks = re.findall(r'<code id="kit-code-([a-z0-9]+)">(.*?)</code>', page, re.S)
    return {name: html.unescape(code) for name, code in blocks}


def _tiny_model(spec: dict, num_classes: int) -> nn.Module:
    """A participant's network of the challenge's shape (a convolution, a pool, a layer)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(spec["channels"], 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, num_classes),
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The student's working folder (tmp_path also holds the site's file roots)."""
    path = tmp_path / "student"
    path.mkdir()
    return path


def _run(code: str, folder: Path, monkeypatch, **names) -> dict:
    monkeypatch.chdir(folder)
    scope = dict(names)
    exec(compile(code, "<kit snippet>", "exec"), scope)
    return scope


@SPECS
def test_the_onnx_snippet_writes_one_file_the_evaluator_accepts(
    client, spec, folder, monkeypatch, capsys
):
    code = _code_blocks(client, spec)["onnx"]
    _run(code, folder, monkeypatch, model=_tiny_model(spec, 5))
    path = folder / "model.onnx"
    assert detect_format(path) is ModelFormat.ONNX
    check_onnx(path)  # the sandbox's full check: a graph, and no external data
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx"]
    assert capsys.readouterr().out.splitlines()[-1] == "(4, 5)"  # the snippet's own check


@SPECS
def test_the_torch_export_snippet_writes_a_pt2_with_a_dynamic_batch(
    client, spec, folder, monkeypatch
):
    code = _code_blocks(client, spec)["pt2"]
    model = _tiny_model(spec, 5)
    _run(code, folder, monkeypatch, model=model)
    path = folder / "model.pt2"
    assert detect_format(path) is ModelFormat.TORCH_EXPORT
    x = torch.randn(3, spec["channels"], spec["height"], spec["width"])
    loaded = torch.export.load(str(path)).module()
    torch.testing.assert_close(loaded(x), model(x))


@SPECS
@pytest.mark.filterwarnings("ignore:`torch.jit.trace:FutureWarning")  # deprecated by recent torch
def test_the_torchscript_snippet_writes_an_archive_the_evaluator_accepts(
    client, spec, folder, monkeypatch
):
    code = _code_blocks(client, spec)["torchscript"]
    _run(code, folder, monkeypatch, model=_tiny_model(spec, 5))
    assert detect_format(folder / "model.ts") is ModelFormat.TORCHSCRIPT


@SPECS
def test_the_safetensors_snippet_loads_strictly_into_the_named_architecture(
    client, spec, folder, monkeypatch
):
    code = _code_blocks(client, spec, num_classes=7)["safetensors"]
    scope = _run(code, folder, monkeypatch)
    path = folder / "model.safetensors"
    assert detect_format(path) is ModelFormat.SAFETENSORS
    loaded = load_safetensors(
        path=path, arch="resnet18", spec=InputSpec.from_dict(spec), num_classes=7, device="cpu"
    )
    x = torch.randn(2, spec["channels"], spec["height"], spec["width"])
    with torch.inference_mode():
        torch.testing.assert_close(loaded.module(x), scope["model"].eval()(x))


@SPECS
def test_the_preprocessing_snippet_computes_the_pages_formula(client, spec, folder, monkeypatch):
    """On an image already at the challenge's size (as the site stores them) the snippet's
    tensor is (pixel/255 - mean[c]) / std[c]; on a larger one it still has the input's shape."""
    code = _code_blocks(client, spec)["transform"]
    c, h, w = spec["channels"], spec["height"], spec["width"]
    pixels = np.random.default_rng(0).integers(0, 256, size=(h, w, c), dtype=np.uint8)
    mode = "L" if c == 1 else "RGB"
    at_size = Image.fromarray(pixels[..., 0] if c == 1 else pixels, mode)
    at_size.save(folder / "image.png")
    if spec.get("resize_short"):  # resized even at the crop's size: the short side, then crop
        resized = at_size.resize(_short_side(w, h, spec["resize_short"]), Image.BILINEAR)
        left, top = round((resized.width - w) / 2), round((resized.height - h) / 2)
        pixels = np.asarray(resized.crop((left, top, left + w, top + h)))
    x = _run(code, folder, monkeypatch)["x"]
    expected = pixels.reshape(h, w, c).transpose(2, 0, 1).astype(np.float32) / 255
    mean = np.asarray(spec["mean"], dtype=np.float32).reshape(c, 1, 1)
    std = np.asarray(spec["std"], dtype=np.float32).reshape(c, 1, 1)
    assert tuple(x.shape) == (1, c, h, w) and x.dtype == torch.float32
    np.testing.assert_allclose(x[0].numpy(), (expected - mean) / std, atol=1e-5)

    Image.fromarray(np.zeros((h * 3, w * 2, 3), np.uint8)).save(folder / "image.png")
    assert tuple(_run(code, folder, monkeypatch)["x"].shape) == (1, c, h, w)


def _short_side(w: int, h: int, short: int) -> tuple[int, int]:
    if w <= h:
        return short, int(short * h / w)
    return int(short * w / h), short


def test_the_example_snippet_runs_the_downloaded_model_on_the_preprocessed_image(
    client, folder, monkeypatch, capsys, settings
):
    spec = {"channels": 1, "height": 8, "width": 8, "mean": [0.5], "std": [0.5]}
    challenge = make_challenge(input_spec=spec, class_names=["a", "b", "c", "d"])
    edition = make_edition(challenge=challenge)
    entry = Submission.objects.create(
        edition=edition,
        is_baseline=True,
        method_name="LeNet-5",
        original_name="baseline-lenet5-k.onnx",
        format="onnx",
    )
    entry.file.name = f"submissions/{edition.pk}/{entry.pk}"
    entry.save(update_fields=["file"])
    write_file(Path(settings.MEDIA_ROOT) / entry.file.name, onnx_bytes())
    page = client.get(challenge.get_absolute_url()).content.decode()
    blocks = dict(re.findall(r'<code id="kit-code-([a-z0-9]+)">(.*?)</code>', page, re.S))
    for name, url in (("classes.txt", "kit_classes"), ("fmnist-example.onnx", "kit_example")):
        response = client.get(reverse(url, kwargs={"slug": challenge.slug}))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        (folder / name).write_bytes(body)
    Image.fromarray(np.full((8, 8), 200, np.uint8), "L").save(folder / "image.png")

    scope = _run(html.unescape(blocks["transform"]), folder, monkeypatch)
    _run(html.unescape(blocks["predict"]), folder, monkeypatch, x=scope["x"])
    assert capsys.readouterr().out.strip() in {"a", "b", "c", "d"}
