"""ResNet-18, the paper's CIFAR-sized ResNet-20, and the squeeze-and-excitation variant.

K. He, X. Zhang, S. Ren and J. Sun, "Deep Residual Learning for Image Recognition",
arXiv:1512.03385, 2015 (CVPR 2016): won ILSVRC 2015 with 3.57% top-5 error (ensemble).
J. Hu, L. Shen and G. Sun, "Squeeze-and-Excitation Networks", arXiv:1709.01507, 2017
(CVPR 2018): won ILSVRC 2017 with 2.25% top-5 error (ensemble).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from baselines.architectures.common import init_weights, is_small

STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))  # (width, first stride), two blocks each
SE_REDUCTION = 16  # the SE paper's r


class SqueezeExcitation(nn.Module):
    """Global average -> FC (C/r) -> ReLU -> FC (C) -> sigmoid, scaling each channel."""

    def __init__(self, channels: int, reduction: int = SE_REDUCTION) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3))))))
        return x * weights[:, :, None, None]


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity (or 1x1 projection) shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, se: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.se = SqueezeExcitation(out_channels) if se else nn.Identity()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:  # the paper's option B
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """Stem - four stages of two basic blocks (64, 128, 256, 512) - global average - fc.

    Adapted to small inputs as the paper's own CIFAR-10 networks are (section 4.2): a 3x3 stem
    at stride 1 and no max-pool, so 28x28 is kept until stage 2 (28-28-14-7-4). On inputs over
    64 px the same 3x3 stem runs at stride 2 and is followed by the paper's 3x3/2 max-pool
    (224 -> 56, as the original 7x7/2 stem). ``se=True`` adds a squeeze-and-excitation module
    to every block before the addition (SE-ResNet, figure 3 of the SE paper).
    """

    def __init__(self, *, in_channels: int, num_classes: int, se: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks: list[nn.Module] = []
        channels = 64
        for width, stride in STAGES:
            blocks += [BasicBlock(channels, width, stride, se), BasicBlock(width, width, 1, se)]
            channels = width
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels, num_classes)
        init_weights(self)
        for block in blocks:  # residual branches start at zero (Goyal et al., arXiv:1706.02677)
            nn.init.zeros_(block.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        small = is_small(*x.shape[-2:])
        x = F.conv2d(x, self.conv1.weight, stride=1 if small else 2, padding=1)
        x = F.relu(self.bn1(x))
        if not small:
            x = F.max_pool2d(x, 3, 2, 1)
        x = torch.flatten(F.adaptive_avg_pool2d(self.layers(x), 1), 1)
        return self.fc(x)


class ResNet20(nn.Module):
    """The paper's own network for 32x32 images (section 4.2): 6n+2 layers with n = 3.

    A 3x3 stem of 16 filters, then three stages of three basic blocks at 16, 32 and 64
    filters (feature maps 28-14-7 on Fashion-MNIST, 32-16-8 on CIFAR), global average
    pooling and one fully connected layer: 0.27 million parameters and about 40 million
    multiply-adds per 28x28 image, a hundredth of ResNet-18's, so it trains on a CPU.
    Shortcuts that change shape are 1x1 projections (the paper's option B; its CIFAR runs
    used zero-padding, option A). On inputs over 64 px the stem runs at stride 2 and is
    followed by a 3x3/2 max-pool, as ResNet-18's is.
    """

    def __init__(self, *, in_channels: int, num_classes: int, blocks_per_stage: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks: list[nn.Module] = []
        channels = 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for index in range(blocks_per_stage):
                blocks.append(BasicBlock(channels, width, stride if index == 0 else 1, False))
                channels = width
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels, num_classes)
        init_weights(self)
        for block in blocks:
            nn.init.zeros_(block.bn2.weight)

    forward = ResNet18.forward


def resnet20(*, in_channels: int, num_classes: int) -> ResNet20:
    return ResNet20(in_channels=in_channels, num_classes=num_classes)


def resnet18(*, in_channels: int, num_classes: int) -> ResNet18:
    return ResNet18(in_channels=in_channels, num_classes=num_classes)


def se_resnet18(*, in_channels: int, num_classes: int) -> ResNet18:
    return ResNet18(in_channels=in_channels, num_classes=num_classes, se=True)
