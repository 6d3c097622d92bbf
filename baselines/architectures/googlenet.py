"""GoogLeNet (Inception v1): parallel 1x1, 3x3, 5x5 and pooling branches, concatenated.

C. Szegedy et al., "Going Deeper with Convolutions", arXiv:1409.4842, 2014 (CVPR 2015).
Won ILSVRC 2014 classification with 6.67% top-5 error.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from baselines.architectures.common import init_weights, is_small

# Table 1 of the paper: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection).
INCEPTION_3 = ((64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64))
INCEPTION_4 = (
    (192, 96, 208, 16, 48, 64),
    (160, 112, 224, 24, 64, 64),
    (128, 128, 256, 24, 64, 64),
    (112, 144, 288, 32, 64, 64),
    (256, 160, 320, 32, 128, 128),
)
INCEPTION_5 = ((256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128))
STEM_CHANNELS = 192


def conv_bn(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class Inception(nn.Module):
    """One module of table 1: four branches whose outputs are stacked along channels."""

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        n1, r3, n3, r5, n5, pool = widths
        self.branch1 = conv_bn(in_channels, n1, 1)
        self.branch3 = nn.Sequential(conv_bn(in_channels, r3, 1), conv_bn(r3, n3, 3))
        self.branch5 = nn.Sequential(conv_bn(in_channels, r5, 1), conv_bn(r5, n5, 5))
        self.branch_pool = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), conv_bn(in_channels, pool, 1)
        )
        self.out_channels = n1 + n3 + n5 + pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch3, self.branch5, self.branch_pool)
        return torch.cat([branch(x) for branch in branches], 1)


class GoogLeNet(nn.Module):
    """Stem - inception 3a, 3b - pool - 4a..4e - pool - 5a, 5b - global average - dropout - fc.

    Adapted to small inputs: the paper's stem (7x7/2, pool, 1x1, 3x3, pool: 224 -> 28) becomes
    one 3x3 convolution to 192 maps that keeps a thumbnail's resolution, so inception 3a sees
    28x28 as in the paper; on inputs over 64 px the same convolution runs at stride 2 followed by
    two 3x3/2 max-pools (224 -> 28). Batch normalisation follows every convolution (it arrived
    with Inception v2, arXiv:1502.03167), the two auxiliary classifiers are left out, and 5x5
    branches are real 5x5 convolutions. Dropout 0.4 before the classifier, as published.
    """

    def __init__(self, *, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.stem = nn.Conv2d(in_channels, STEM_CHANNELS, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(STEM_CHANNELS)
        channels = STEM_CHANNELS
        stages: list[nn.Sequential] = []
        for widths in (INCEPTION_3, INCEPTION_4, INCEPTION_5):
            modules = []
            for w in widths:
                modules.append(Inception(channels, w))
                channels = modules[-1].out_channels
            stages.append(nn.Sequential(*modules))
        self.inception3, self.inception4, self.inception5 = stages
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(channels, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        small = is_small(*x.shape[-2:])
        x = F.conv2d(x, self.stem.weight, stride=1 if small else 2, padding=1)
        x = F.relu(self.stem_bn(x))
        if not small:
            x = F.max_pool2d(F.max_pool2d(x, 3, 2, 1), 3, 2, 1)
        x = self.pool(self.inception3(x))
        x = self.pool(self.inception4(x))
        x = torch.flatten(F.adaptive_avg_pool2d(self.inception5(x), 1), 1)
        return self.fc(self.dropout(x))


def googlenet(*, in_channels: int, num_classes: int) -> GoogLeNet:
    return GoogLeNet(in_channels=in_channels, num_classes=num_classes)
