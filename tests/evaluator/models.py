"""Real model files for tests: torchvision networks (random init, no downloads) in every format.

Import the fixtures into a test module to use them::

    from tests.evaluator.models import model_files  # noqa: F401

``model_files`` exports one resnet18 (1 input channel, 10 classes: the ``tiny_dataset`` shape)
to ONNX, safetensors, torch.export, TorchScript and two pickled torch.save files, once per
session. The exporters are plain functions for tests that need other networks.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from evaluator import architectures as registry
from evaluator.spec import InputSpec

ARCH = "resnet18"


def build(arch: str = ARCH, *, in_channels: int = 1, num_classes: int = 10, seed: int = 0):
    """A registry network in eval mode with seeded random weights."""
    torch.manual_seed(seed)
    return registry.build(arch, in_channels=in_channels, num_classes=num_classes).eval()


def example_input(*, channels: int = 1, size: int = 28, batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, channels, size, size, generator=torch.Generator().manual_seed(1))


def export_onnx(
    module: nn.Module, path: Path, *, example: torch.Tensor, dynamic_batch: bool = True
) -> Path:
    """ONNX through the TorchScript-based exporter (fast); batch axis dynamic by default."""
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            str(path),
            dynamo=False,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes=axes,
        )
    return path


def export_safetensors(module: nn.Module, path: Path) -> Path:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
    return path


def export_pt2(
    module: nn.Module, path: Path, *, example: torch.Tensor, dynamic_batch: bool = True
) -> Path:
    shapes = ({0: torch.export.Dim("batch", min=1, max=4096)},) if dynamic_batch else None
    program = torch.export.export(module, (example,), dynamic_shapes=shapes)
    torch.export.save(program, str(path))
    return path


def export_torchscript(module: nn.Module, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(module).save(str(path))
    return path


def export_pickled_module(module: nn.Module, path: Path) -> Path:
    torch.save(module, str(path))
    return path


def export_pickled_state_dict(module: nn.Module, path: Path) -> Path:
    torch.save(module.state_dict(), str(path))
    return path


def reference_logits(module: nn.Module, images: np.ndarray, spec: InputSpec) -> np.ndarray:
    """What the evaluator should return: the module applied to normalised uint8 images."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32)) / 255.0
    mean = torch.tensor(spec.mean).view(1, -1, 1, 1)
    std = torch.tensor(spec.std).view(1, -1, 1, 1)
    with torch.inference_mode():
        return module((x - mean) / std).numpy()


@dataclass(frozen=True)
class ModelFiles:
    module: nn.Module  # the original network, eval mode
    arch: str
    onnx: Path
    safetensors: Path
    pt2: Path
    torchscript: Path
    pickled_module: Path
    pickled_state_dict: Path


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    """resnet18 for 1x28x28 inputs and 10 classes, exported once to every format."""
    root = tmp_path_factory.mktemp("models")
    module = build()
    example = example_input()
    return ModelFiles(
        module=module,
        arch=ARCH,
        onnx=export_onnx(module, root / "model.onnx", example=example),
        safetensors=export_safetensors(module, root / "model.safetensors"),
        pt2=export_pt2(module, root / "model.pt2", example=example),
        torchscript=export_torchscript(module, root / "model.torchscript"),
        pickled_module=export_pickled_module(module, root / "model.pt"),
        pickled_state_dict=export_pickled_state_dict(module, root / "state_dict.pth"),
    )
