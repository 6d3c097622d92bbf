"""timm networks in the architecture registry: each pinned name builds at the demo's input with
no network, and a timm network's safetensors scores in the sandbox as its own forward pass."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from evaluator import architectures as registry
from evaluator import layout
from evaluator.scoring import score
from evaluator.spec import InputSpec
from tests.evaluator.conftest import write_compiled_dataset
from tests.evaluator.models import reference_logits
from tests.evaluator.sandbox_helpers import requires_bwrap

pytest.importorskip("timm")
pytestmark = pytest.mark.timeout(300)

TIMM = [name for name, family in registry.families().items() if family == "timm"]
DEMO = InputSpec(channels=1, height=28, width=28)  # the demo challenge: Fashion-MNIST


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to resolve a host or open a connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network use while building a timm network: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)


def test_the_pinned_timm_names_are_registered_with_their_family() -> None:
    assert len(TIMM) >= 12
    assert all(name.startswith(registry.TIMM_PREFIX) for name in TIMM)
    assert {"timm/resnet18", "timm/efficientnet_b0", "timm/mobilenetv3_small_100"} <= set(TIMM)
    families = registry.families()
    assert list(families) == registry.names()
    assert families["resnet18"] == "torchvision"
    if "baseline-lenet5" in families:
        assert families["baseline-lenet5"] == "baselines"


@pytest.mark.parametrize("name", TIMM)
def test_each_builds_and_runs_at_the_demo_input_with_no_network(
    name: str, no_network: None
) -> None:
    torch.manual_seed(0)
    model = registry.build(name, in_channels=DEMO.channels, num_classes=10).eval()
    with torch.inference_mode():
        out = model(torch.randn(2, DEMO.channels, DEMO.height, DEMO.width))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 10)
    assert torch.isfinite(out).all()


def test_a_timm_name_is_exactly_timm_create_model() -> None:
    import timm

    ours = registry.build("timm/resnet18", in_channels=3, num_classes=7)
    theirs = timm.create_model("resnet18", pretrained=False, num_classes=7, in_chans=3)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in theirs.state_dict().items()
    }


def test_importing_the_registry_does_not_import_timm() -> None:
    code = "import sys, evaluator.architectures as a; a.names(); print('timm' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _spread(model: nn.Module, x: torch.Tensor) -> nn.Module:
    """A freshly built network's logits barely differ between images (BatchNorm's running
    statistics are 1 and 0, the head's weights tiny): take the statistics of these images in
    one pass and give the head unit-scale weights, so no ranking hangs on float rounding."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = None  # a cumulative average: one pass gives the batch's statistics
    model.train()
    with torch.no_grad():
        model(x)
        head = model.get_classifier()
        head.weight.normal_(0.0, head.weight.shape[1] ** -0.5)
        head.bias.zero_()
    return model.eval()


def _errors(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Top-1 and top-5 error by numpy's argsort (no tie rule needed: the test checks gaps)."""
    order = np.argsort(-logits, axis=1, kind="stable")
    hit = order == labels[:, None]
    return 1.0 - hit[:, :1].any(axis=1).mean(), 1.0 - hit[:, :5].any(axis=1).mean()


@requires_bwrap
def test_a_timm_networks_safetensors_scores_as_its_own_forward_pass(tmp_path: Path) -> None:
    dataset = write_compiled_dataset(tmp_path / "set", n=96, seed=3)
    images = np.load(layout.images_dir(dataset) / layout.IMAGES_FILE)
    labels = np.load(dataset / layout.LABELS_DIR / layout.LABELS_FILE)
    arch = "timm/efficientnet_b0"
    torch.manual_seed(0)
    module = registry.build(arch, in_channels=1, num_classes=10)
    x = torch.from_numpy(reference_logits(nn.Identity(), images, DEMO))
    module = _spread(module, x)
    path = tmp_path / "efficientnet_b0.safetensors"
    save_file(module.state_dict(), str(path))

    expected = reference_logits(module, images, DEMO)
    # Logits of about 0.1 to 1: the child's arithmetic may differ from this process's in the
    # last bits (threads, kernels), 1e-5 is a hundred times that. No ranking hangs on it.
    ranked = -np.sort(-expected, axis=1)
    assert (ranked[:, 0] - ranked[:, 1]).min() > 1e-5  # the first and the second
    assert (ranked[:, 4] - ranked[:, 5]).min() > 1e-5  # the fifth and the sixth
    top1, top5 = _errors(expected, labels)

    result = score(dataset_dir=dataset, model_path=path, arch=arch, timeout_s=240)
    assert (result["format"], result["arch"], result["sandbox"]) == ("safetensors", arch, "bwrap")
    assert result["n_images"] == len(labels)
    assert result["top1_error"] == pytest.approx(top1, abs=1e-12)
    assert result["top5_error"] == pytest.approx(top5, abs=1e-12)
    assert 0.0 < top5 < top1 < 1.0  # a ranking with something to get right and wrong
