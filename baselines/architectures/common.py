"""Pieces shared by the networks: the size rule for stems and weight initialisation."""

from __future__ import annotations

from torch import nn

# Inputs whose shorter side is at most this are "thumbnails" (MNIST, CIFAR): the networks keep
# their full resolution. Larger inputs (ImageNet's 224) are reduced early, as the papers did.
SMALL_INPUT_MAX = 64


def is_small(height: int, width: int) -> bool:
    """Whether an input is thumbnail-sized (decided from the batch's own shape at run time).

    The registry builds a network from channels and classes only, so a network cannot be told
    its input size; it reads it from the batch. The weights are the same either way, only the
    strides differ, so one safetensors file serves both sizes.
    """
    return min(height, width) <= SMALL_INPUT_MAX


def init_weights(model: nn.Module) -> nn.Module:
    """He initialisation for ReLU layers (He et al. 2015, arXiv:1502.01852), zero biases."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return model
