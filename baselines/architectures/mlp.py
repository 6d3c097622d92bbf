"""Nielsen's fully connected network: 784-30-10 with sigmoid units.

Michael A. Nielsen, "Neural Networks and Deep Learning", Determination Press, 2015, chapter 1
(neuralnetworksanddeeplearning.com): the textbook network that reaches about 95% on MNIST. It is
the perceptron/back-propagation lineage (Rosenblatt 1958; Rumelhart, Hinton & Williams 1986) in
its simplest trainable form, so it opens the leaderboard's history.
"""

from __future__ import annotations

import math

import torch
from torch import nn

SIDE = 28  # the book's 28x28 = 784 inputs per channel


class NielsenMLP(nn.Module):
    """Inputs -> 30 sigmoid units -> one output per class.

    Adapted to the platform: any input is first average-pooled to 28x28 (identity on MNIST-sized
    images; a 224 image is pooled 8x8), so the book's 784 inputs per channel stay the same; the
    outputs are the pre-sigmoid activations (logits), trained with cross-entropy (the book's
    chapter 3 cost) rather than the quadratic cost of chapter 1. Weights start N(0, 1/n_in), the
    book's improved initialisation (chapter 3). The ONNX exporter handles that pool only when
    each side is a multiple of 28, so other sizes score as safetensors, not ONNX.
    """

    def __init__(self, *, in_channels: int, num_classes: int, hidden: int = 30) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d((SIDE, SIDE))
        self.hidden = nn.Linear(in_channels * SIDE * SIDE, hidden)
        self.output = nn.Linear(hidden, num_classes)
        for layer in (self.hidden, self.output):
            nn.init.normal_(layer.weight, std=1 / math.sqrt(layer.in_features))
            nn.init.normal_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (SIDE, SIDE):
            x = self.pool(x)
        return self.output(torch.sigmoid(self.hidden(torch.flatten(x, 1))))
