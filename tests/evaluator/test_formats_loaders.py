"""Loaders give the same logits as the original network, and say clearly why a file won't load.

These run the loaders in the test process; the sandbox tests run the same code in the child.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from evaluator.errors import ModelLoadError, UnsupportedFormat
from evaluator.formats.base import LoadedModel, ModelFormat
from evaluator.formats.loaders import load_model
from evaluator.spec import InputSpec
from tests.evaluator import models
from tests.evaluator.models import ModelFiles

pytestmark = pytest.mark.timeout(120)

SPEC = InputSpec(channels=1, height=28, width=28)
FORMATS = [
    ("onnx", ModelFormat.ONNX),
    ("safetensors", ModelFormat.SAFETENSORS),
    ("pt2", ModelFormat.TORCH_EXPORT),
    ("torchscript", ModelFormat.TORCHSCRIPT),
]


def _images(n: int = 5) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, 1, 28, 28), dtype=np.uint8)


def _run(model: LoadedModel, images: np.ndarray) -> np.ndarray:
    x = (torch.from_numpy(images.astype(np.float32)) / 255.0 - 0.5) / 0.5
    if model.kind == "onnx":
        return model.session.run(None, {model.input_name: x.numpy()})[0]
    with torch.inference_mode():
        return model.module(x).numpy()


def _load(path: Path, fmt: ModelFormat, arch: str | None = None, **kw) -> LoadedModel:
    return load_model(
        path=path,
        fmt=fmt,
        arch=arch,
        spec=kw.get("spec", SPEC),
        num_classes=kw.get("num_classes", 10),
        device="cpu",
    )


@pytest.mark.parametrize(("attr", "fmt"), FORMATS)
def test_each_format_gives_the_original_logits(
    model_files: ModelFiles,
    attr: str,
    fmt: ModelFormat,
) -> None:
    images = _images()
    model = _load(getattr(model_files, attr), fmt, arch=model_files.arch)
    expected = models.reference_logits(model_files.module, images, SPEC)
    np.testing.assert_allclose(_run(model, images), expected, rtol=1e-4, atol=1e-4)
    assert model.format is fmt
    assert model.params and model.params > 0
    assert model.fixed_batch is None  # exported with a dynamic batch axis


def test_torch_params_are_counted(model_files: ModelFiles) -> None:
    expected = sum(p.numel() for p in model_files.module.parameters())
    for attr, fmt in FORMATS[1:]:
        assert _load(getattr(model_files, attr), fmt, arch=model_files.arch).params == expected


def test_static_batch_is_reported(tmp_path: Path) -> None:
    module = models.build("squeezenet1_1", num_classes=10)
    example = models.example_input(size=32, batch=3)
    onnx_path = models.export_onnx(
        module, tmp_path / "m.onnx", example=example, dynamic_batch=False
    )
    pt2_path = models.export_pt2(module, tmp_path / "m.pt2", example=example, dynamic_batch=False)
    # The file's own 32x32 input: the loader checks an ONNX input against the spec it is fed.
    spec32 = InputSpec(channels=1, height=32, width=32)
    assert _load(onnx_path, ModelFormat.ONNX, spec=spec32).fixed_batch == 3
    assert _load(pt2_path, ModelFormat.TORCH_EXPORT).fixed_batch == 3


def test_safetensors_needs_an_architecture(model_files: ModelFiles) -> None:
    with pytest.raises(ModelLoadError, match="--arch"):
        _load(model_files.safetensors, ModelFormat.SAFETENSORS, arch=None)


def test_unknown_architecture_lists_valid_names(model_files: ModelFiles) -> None:
    with pytest.raises(ModelLoadError) as info:
        _load(model_files.safetensors, ModelFormat.SAFETENSORS, arch="resnet19")
    message = str(info.value)
    assert "resnet19" in message and "resnet18" in message
    assert info.value.code == "model_load_failed"


def test_missing_and_unexpected_keys_are_named(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    state = models.build().state_dict()
    state.pop("fc.weight")
    state["head.extra"] = torch.zeros(2)
    path = tmp_path / "partial.safetensors"
    save_file(state, str(path))
    with pytest.raises(ModelLoadError) as info:
        _load(path, ModelFormat.SAFETENSORS, arch="resnet18")
    message = str(info.value)
    assert "fc.weight" in message and "head.extra" in message
    assert "missing" in message and "unexpected" in message and "resnet18" in message


def test_wrong_architecture_is_a_key_mismatch(model_files: ModelFiles) -> None:
    with pytest.raises(ModelLoadError, match="'resnet34'"):
        _load(model_files.safetensors, ModelFormat.SAFETENSORS, arch="resnet34")


def test_shape_mismatch_names_the_arch_and_class_count(model_files: ModelFiles) -> None:
    with pytest.raises(ModelLoadError) as info:
        _load(model_files.safetensors, ModelFormat.SAFETENSORS, arch="resnet18", num_classes=5)
    message = str(info.value)
    assert "5 classes" in message and "fc.weight" in message


def test_wrong_channel_count_is_a_load_error(model_files: ModelFiles) -> None:
    rgb = InputSpec(channels=3, height=28, width=28)
    with pytest.raises(ModelLoadError, match="3 input channels"):
        _load(model_files.safetensors, ModelFormat.SAFETENSORS, arch="resnet18", spec=rgb)


def test_damaged_archives_are_load_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    for fmt in (ModelFormat.TORCHSCRIPT, ModelFormat.TORCH_EXPORT):
        with pytest.raises(ModelLoadError):
            _load(path, fmt)
    # ONNX gets the full format check here, in the child, before onnxruntime sees the file.
    with pytest.raises(UnsupportedFormat, match="not a model file in an accepted format"):
        _load(path, ModelFormat.ONNX)
