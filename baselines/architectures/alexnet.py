"""AlexNet: five convolutions and three fully connected layers, ReLU and dropout.

A. Krizhevsky, I. Sutskever and G. E. Hinton, "ImageNet Classification with Deep Convolutional
Neural Networks", NeurIPS 2012. Won ILSVRC 2012 with 16.4% top-5 error (15.3% with extra data).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from baselines.architectures.common import init_weights, is_small

FULL_WIDTHS = (64, 192, 384, 256, 256)  # the one-GPU widths (torchvision's; the paper: 96...)
FULL_HIDDEN = 4096
LARGE_STRIDE = 4  # the paper's first stride on 224x224 inputs


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class AlexNet(nn.Module):
    """conv1 - pool - conv2 - pool - conv3 - conv4 - conv5 - pool - fc - fc - fc.

    Adapted to small inputs: conv1 is 5x5 and runs at stride 1 on thumbnails (at stride 4, the
    paper's, on inputs over 64 px), the first two pools are 2x2, the last one the paper's
    overlapping 3x3/2, so a 28x28 image ends as a 3x3 map (a 224 one as 6x6, average-pooled to
    3x3). Batch normalisation (Ioffe & Szegedy 2015, arXiv:1502.03167) follows each
    convolution in place of the paper's local response normalisation: without it this network
    trained slowly at learning rate 0.02 and its ReLUs all died at 0.05 (measured on
    Fashion-MNIST), and the seeding budget allows a few epochs, not the paper's 90. Left out:
    the two-GPU split. Dropout 0.5 before both hidden fully connected layers, as published.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        num_classes: int,
        widths: tuple[int, int, int, int, int] = FULL_WIDTHS,
        hidden: int = FULL_HIDDEN,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        self.conv1 = nn.Conv2d(in_channels, c1, kernel_size=5, padding=2, bias=False)
        self.features = nn.Sequential(
            nn.BatchNorm2d(c1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            *conv_bn_relu(c1, c2, 5),
            nn.MaxPool2d(2),
            *conv_bn_relu(c2, c3, 3),
            *conv_bn_relu(c3, c4, 3),
            *conv_bn_relu(c4, c5, 3),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.pool = nn.AdaptiveAvgPool2d((3, 3))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(c5 * 3 * 3, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stride = 1 if is_small(*x.shape[-2:]) else LARGE_STRIDE
        x = F.conv2d(x, self.conv1.weight, stride=stride, padding=2)
        x = self.features(x)
        if x.shape[-2:] != (3, 3):
            x = self.pool(x)
        return self.classifier(torch.flatten(x, 1))


def alexnet(*, in_channels: int, num_classes: int) -> AlexNet:
    """The paper's depth and (one-GPU) widths: 5 conv + 3 FC with 4096 hidden units."""
    return AlexNet(in_channels=in_channels, num_classes=num_classes)


def alexnet_small(*, in_channels: int, num_classes: int) -> AlexNet:
    """The same 5 conv + 3 FC at an eighth of the convolution widths and 512 hidden units.

    Sized to train on a shared 2-core CPU in a few minutes on 28x28 images (about 6 million
    multiply-adds per image instead of 0.2 billion); the structure (depth, kernel sizes, ReLU,
    dropout, overlapping last pool) is unchanged.
    """
    return AlexNet(
        in_channels=in_channels, num_classes=num_classes, widths=(16, 32, 48, 48, 32), hidden=512
    )
