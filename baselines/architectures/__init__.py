"""The baseline networks, registered in the evaluator's architecture registry on import.

Registration makes a safetensors file of any of them loadable by name, like a torchvision
network, with no participant code. Only torch is imported here (the evaluator loads this).
"""

from __future__ import annotations

from evaluator.formats.registry import Builder, register

from .alexnet import alexnet, alexnet_small
from .googlenet import googlenet
from .lenet import LeNet5
from .mlp import NielsenMLP
from .resnet import resnet18, resnet20, se_resnet18
from .vgg import vgg11


def mlp(*, in_channels: int, num_classes: int) -> NielsenMLP:
    return NielsenMLP(in_channels=in_channels, num_classes=num_classes)


def lenet5(*, in_channels: int, num_classes: int) -> LeNet5:
    return LeNet5(in_channels=in_channels, num_classes=num_classes)


BUILDERS: dict[str, Builder] = {
    "baseline-mlp": mlp,
    "baseline-lenet5": lenet5,
    "baseline-alexnet-small": alexnet_small,
    "baseline-alexnet": alexnet,
    "baseline-vgg11": vgg11,
    "baseline-googlenet": googlenet,
    "baseline-resnet20": resnet20,
    "baseline-resnet18": resnet18,
    "baseline-se-resnet18": se_resnet18,
}

for _name, _builder in BUILDERS.items():
    register(_name, _builder)

__all__ = ["BUILDERS"]
