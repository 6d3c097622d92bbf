"""What the network sees: real networks in every readable format, checked against torch itself."""

from __future__ import annotations

import base64
import io
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from evaluator.insights import compute_insights, top_k
from evaluator.insights.filters import (
    FiltersUnavailable,
    filter_grid,
    first_conv_of_module,
    first_conv_of_onnx,
    grid_shape,
)
from evaluator.insights.occlusion import occluded_copies, occlusion_grid
from evaluator.spec import InputSpec
from tests.evaluator import models
from tests.evaluator.models import ModelFiles

pytestmark = pytest.mark.timeout(300)

SPEC = InputSpec(channels=1, height=28, width=28)
NAMES = [f"class{i}" for i in range(10)]
LABELS = [3, 1, 4, 1, 5, 9, 2, 6]


def _samples() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, size=(8, 1, 28, 28), dtype=np.uint8)


def _png(data: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))


def _insights(path: Path, *, arch: str | None = None, **options) -> dict:
    return compute_insights(
        model_path=path,
        arch=arch,
        samples=options.pop("samples", _samples()),
        labels=options.pop("labels", LABELS),
        class_names=NAMES,
        spec=SPEC,
        timeout_s=options.pop("timeout_s", 120),
        **options,
    )


@pytest.fixture(scope="module", params=["onnx", "safetensors", "torchscript"])
def computed(request: pytest.FixtureRequest, model_files: ModelFiles) -> tuple[str, dict]:
    """compute_insights of the same resnet18, once per format."""
    fmt = request.param
    arch = model_files.arch if fmt == "safetensors" else None
    return fmt, _insights(getattr(model_files, fmt), arch=arch)


def test_top5_and_probabilities_match_torch_softmax(
    computed: tuple[str, dict], model_files: ModelFiles
) -> None:
    _fmt, result = computed
    assert result["errors"] == {}
    json.dumps(result)  # stored as JSON beside the score
    probs = torch.softmax(
        torch.from_numpy(models.reference_logits(model_files.module, _samples(), SPEC)), dim=1
    ).numpy()
    assert result["top_k"] == 5 and len(result["samples"]) == 8
    for i, sample in enumerate(result["samples"]):
        expected = [int(c) for c in np.argsort(-probs[i], kind="stable")[:5]]
        assert [g["class"] for g in sample["guesses"]] == expected
        assert [g["name"] for g in sample["guesses"]] == [NAMES[c] for c in expected]
        got = [g["prob"] for g in sample["guesses"]]
        np.testing.assert_allclose(got, probs[i, expected], rtol=1e-4, atol=1e-6)
        assert sample["label"] == LABELS[i] and sample["label_name"] == NAMES[LABELS[i]]
        assert sample["true_prob"] == pytest.approx(probs[i, LABELS[i]], rel=1e-4, abs=1e-6)
        assert sample["true_rank"] == int((probs[i] > probs[i, LABELS[i]]).sum())
        assert np.array_equal(_png(sample["image"]["data"]), _samples()[i, 0])  # shown as given


def test_filter_grid_matches_the_first_convolution(
    computed: tuple[str, dict], model_files: ModelFiles
) -> None:
    _fmt, result = computed
    weight = model_files.module.conv1.weight.detach().numpy()
    filters = result["filters"]
    assert filters["shape"] == list(weight.shape) == [64, 1, 7, 7]
    assert (filters["shown"], filters["rows"], filters["cols"]) == (64, 8, 8)
    image = _png(filters["png"])
    assert image.shape == (1 + 8 * (7 + 1), 1 + 8 * (7 + 1))  # 7x7 tiles, 1 px gaps, grey
    for index in (0, 9, 63):  # each tile is that filter scaled to 0..255 on its own
        w = weight[index, 0]
        top, left = 1 + (index // 8) * 8, 1 + (index % 8) * 8
        expected = np.rint((w - w.min()) / (w.max() - w.min()) * 255)
        np.testing.assert_allclose(image[top : top + 7, left : left + 7], expected, atol=1)


def test_occlusion_maps_cover_the_first_samples(computed: tuple[str, dict]) -> None:
    _fmt, result = computed
    assert [entry["sample"] for entry in result["occlusion"]] == [0, 1, 2]
    for entry in result["occlusion"]:
        assert entry["grid"] == {"height": 28, "width": 28, "rows": 7, "cols": 7, "patch": 8}
        drop = np.array(entry["drop"])
        assert drop.shape == (7, 7) and (drop >= 0).all() and (drop <= 1).all()
        assert _png(entry["heat_png"]).shape == (28, 28, 4)  # RGBA, laid over the image


class QuadrantOnly(nn.Module):
    """Class 0's score depends on the top-left 14 x 14 pixels only; the other classes score 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        quadrant = x[:, 0, :14, :14].mean(dim=(1, 2))
        logits = torch.zeros(x.shape[0], 10)
        logits[:, 0] = 30.0 * quadrant - 20.0
        return logits


def _script(module: nn.Module, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(module).save(str(path))
    return path


def test_occlusion_is_hot_only_where_the_model_looks(tmp_path: Path) -> None:
    white = np.full((3, 1, 28, 28), 255, dtype=np.uint8)
    result = _insights(
        _script(QuadrantOnly(), tmp_path / "quadrant.pt"), samples=white, labels=[0, 0, 0]
    )
    grid = occlusion_grid(height=28, width=28)
    looks = np.array(
        [[grid.box(r, c)[0] < 14 and grid.box(r, c)[2] < 14 for c in range(7)] for r in range(7)]
    )
    assert 0 < looks.sum() < 49
    for entry in result["occlusion"]:
        drop = np.array(entry["drop"])
        assert drop[~looks].max() < 1e-4
        assert drop[looks].min() > 0 and drop[looks].max() > 0.5
        alpha = _png(entry["heat_png"])[..., 3]
        assert alpha[20:, 20:].max() == 0 and alpha[:14, :14].max() > 150
    assert "no 2-D convolution" in result["errors"]["filters"]


class ConvThenSpin(nn.Module):
    """A readable first layer, then a forward pass that never ends."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 6, kernel_size=5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        n = 0
        while n >= 0:
            n = n + 1
        return y.flatten(1)[:, :10]


def test_a_hanging_model_is_stopped_and_what_finished_is_kept(tmp_path: Path) -> None:
    start = time.monotonic()
    result = _insights(_script(ConvThenSpin(), tmp_path / "spin.pt"), timeout_s=10)
    assert time.monotonic() - start < 40
    assert "time limit of 10 s" in result["errors"]["samples"]
    assert "0 of 3" in result["errors"]["occlusion"] and result["occlusion"] == []
    assert all(sample["guesses"] == [] for sample in result["samples"])
    assert result["filters"]["shape"] == [6, 1, 5, 5]  # written before the forward pass hung
    assert result["filters"]["name"] == "conv.weight"


def test_first_conv_of_an_exported_program_follows_its_graph(model_files: ModelFiles) -> None:
    module = torch.export.load(str(model_files.pt2)).module()
    conv = first_conv_of_module(module)
    assert conv.name == "conv1.weight"
    np.testing.assert_array_equal(conv.weight, model_files.module.conv1.weight.detach().numpy())


def test_onnx_without_a_convolution_says_so(tmp_path: Path) -> None:
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10)).eval()
    path = models.export_onnx(mlp, tmp_path / "mlp.onnx", example=models.example_input())
    with pytest.raises(FiltersUnavailable, match="no Conv node"):
        first_conv_of_onnx(path)


def test_colour_filters_tile_like_alexnets_figure() -> None:
    weight = np.random.default_rng(0).normal(size=(96, 3, 11, 11)).astype(np.float32)
    weight[5] = 0.25  # a constant filter is drawn mid-grey, not divided by zero
    grid = filter_grid(weight)
    assert (grid.rows, grid.cols, grid.shown) == (8, 12, 96)
    assert grid.image.shape == (1 + 8 * 12, 1 + 12 * 12, 3)
    first = grid.image[1:12, 1:12]
    assert first.min() == 0 and first.max() == 255
    np.testing.assert_array_equal(grid.image[1:12, 1 + 5 * 12 : 12 + 5 * 12], 128)


@pytest.mark.parametrize(("n", "shape"), [(96, (8, 12)), (64, (8, 8)), (6, (2, 3)), (17, (4, 5))])
def test_grid_shape(n: int, shape: tuple[int, int]) -> None:
    assert grid_shape(n) == shape


def test_occluded_copies_hide_one_mean_grey_square_each() -> None:
    grid = occlusion_grid(height=224, width=224)
    assert (grid.rows, grid.cols, grid.patch) == (14, 14, 32)
    image = np.full((3, 224, 224), 7, dtype=np.uint8)
    fill = np.array([124, 116, 104], dtype=np.uint8)
    copies = occluded_copies(image, grid=grid, fill=fill)
    assert copies.shape == (196, 3, 224, 224)
    top, bottom, left, right = grid.box(3, 5)
    hidden = copies[3 * 14 + 5]
    assert (hidden[:, top:bottom, left:right] == fill[:, None, None]).all()
    assert (hidden != 7).any(axis=0).sum() == (bottom - top) * (right - left)


def test_top_k_breaks_ties_by_class_index() -> None:
    assert top_k(np.array([0.1, 0.3, 0.3, 0.2, 0.1]), 3) == [1, 2, 3]


def test_a_format_the_scoring_run_detected_is_not_detected_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker detects a submission's format once: the score's record hands it to insights."""
    from evaluator.insights import compute as compute_module

    calls: list[Path] = []
    detect = compute_module.detect_format

    def counted(path: Path):
        calls.append(path)
        return detect(path)

    monkeypatch.setattr(compute_module, "detect_format", counted)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10)).eval()
    path = models.export_onnx(mlp, tmp_path / "mlp.onnx", example=models.example_input())
    given = _insights(path, model_format="onnx", occlusion_samples=0)
    assert calls == [] and len(given["samples"]) == 8
    _insights(path, occlusion_samples=0)
    assert calls == [path]
