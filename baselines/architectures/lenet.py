"""LeNet-5: two convolutions with subsampling, then three fully connected layers.

Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied to document
recognition", Proceedings of the IEEE 86(11):2278-2324, 1998. 0.95% error on MNIST.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from baselines.architectures.common import init_weights

FIELD = 32  # the paper's input: 28x28 digits centred in a 32x32 field


class LeNet5(nn.Module):
    """C1 (6 maps, 5x5) - S2 - C3 (16 maps, 5x5) - S4 - C5/F5 (120) - F6 (84) - output.

    Adapted: inputs smaller than 32x32 are zero-padded around the centre as in the paper, larger
    ones average-pooled to 32x32 (224 -> 32 is a 7x7 pool). Modern units replace the paper's:
    ReLU for the scaled tanh, max-pooling for the trainable subsampling, a linear output with
    cross-entropy for the RBF units, and every C3 map sees all S2 maps (no connection table).
    """

    def __init__(self, *, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.pool = nn.AdaptiveAvgPool2d((FIELD, FIELD))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(inplace=True),
            nn.Linear(120, 84),
            nn.ReLU(inplace=True),
            nn.Linear(84, num_classes),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        if height < FIELD or width < FIELD:
            top, left = max(0, FIELD - height) // 2, max(0, FIELD - width) // 2
            x = F.pad(x, (left, max(0, FIELD - width) - left, top, max(0, FIELD - height) - top))
        if x.shape[-2:] != (FIELD, FIELD):
            x = self.pool(x)
        return self.classifier(torch.flatten(self.features(x), 1))
