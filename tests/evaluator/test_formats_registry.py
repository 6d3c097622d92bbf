"""The architecture registry builds plain classifiers for any channel and class count."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from evaluator import architectures as registry

pytestmark = pytest.mark.timeout(120)


def test_names_cover_the_torchvision_classics() -> None:
    expected = {"resnet18", "resnet50", "alexnet", "vgg16_bn", "googlenet", "inception_v3"}
    expected |= {"densenet121", "mobilenet_v3_small", "efficientnet_b0", "convnext_tiny"}
    assert expected <= set(registry.names())
    assert registry.names() == sorted(registry.names())


BUILT = ["resnet18", "alexnet", "googlenet", "inception_v3", "squeezenet1_1", "mobilenet_v3_small"]
BUILT += ["shufflenet_v2_x1_0", "regnet_y_400mf", "efficientnet_b0", "densenet121"]


@pytest.mark.parametrize("name", BUILT)
def test_builds_for_one_channel_and_seven_classes(name: str) -> None:
    torch.manual_seed(0)
    model = registry.build(name, in_channels=1, num_classes=7).eval()
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == 1
    with torch.inference_mode():
        out = model(torch.randn(2, 1, 80, 80))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 7)


def test_adapted_conv_keeps_names_and_hyper_parameters() -> None:
    rgb = registry.build("resnet18", in_channels=3, num_classes=10)
    grey = registry.build("resnet18", in_channels=1, num_classes=10)
    assert set(rgb.state_dict()) == set(grey.state_dict())
    a, b = rgb.conv1, grey.conv1
    assert (a.kernel_size, a.stride, a.padding, a.bias) == (
        b.kernel_size,
        b.stride,
        b.padding,
        b.bias,
    )
    assert grey.conv1.weight.shape == (64, 1, 7, 7)


def test_no_pretrained_weights_are_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("no download may happen")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    registry.build("squeezenet1_1", in_channels=3, num_classes=1000)


def test_register_rejects_duplicates_and_unknown_names_are_explained() -> None:
    with pytest.raises(ValueError, match="already registered"):
        registry.register("resnet18", lambda *, in_channels, num_classes: nn.Identity())
    with pytest.raises(KeyError, match="resnet18"):
        registry.build("resnet181", in_channels=1, num_classes=10)


def test_register_adds_a_platform_network() -> None:
    name = "test_only_linear"
    registry.register(
        name,
        lambda *, in_channels, num_classes: nn.Sequential(nn.Flatten(), nn.LazyLinear(num_classes)),
    )
    try:
        assert name in registry.names()
        model = registry.build(name, in_channels=1, num_classes=3)
        assert model(torch.zeros(2, 1, 4, 4)).shape == (2, 3)
    finally:
        registry._BUILDERS.pop(name)
