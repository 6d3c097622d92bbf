"""The baseline networks, a plugin of the evaluator's architecture registry.

``register`` is the entry point ``baselines`` of the group ``evaluator.architectures``
(``pyproject.toml``): the registry calls it with its own ``register``, which makes a
safetensors file of any of these networks loadable by name, like a torchvision network, with no
participant code. Only torch is imported here: the sandboxed child loads this package too.
"""

from __future__ import annotations

from evaluator.architectures import Builder, Register

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


def register(add: Register) -> None:
    """Add every baseline network with ``add(name, builder)`` (the registry's ``register``)."""
    for name, builder in BUILDERS.items():
        add(name, builder)


__all__ = ["BUILDERS", "register"]
