"""Which networks are baselines: registry name, method name, year, paper, recipe.

The year is the paper's (the book's for the MLP), so the leaderboard's baseline rows read as
the history of ImageNet-era networks. ``fast`` ones train on a 2-core CPU within the seeding
command's ten-minute budget; the others want a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from baselines.recipes import Recipe


@dataclass(frozen=True)
class Baseline:
    arch: str  # the name in evaluator.architectures
    method_name: str
    year: int
    citation: str
    recipe: Recipe
    fast: bool = False
    # Not fast, but within reach of a CPU (about an hour on one core for Fashion-MNIST).
    cpu_ok: bool = False
    # CPU threads for training (None: torch's default). The fast ones use 1: on a shared 2-core
    # machine a second thread mostly waits (an AlexNet-small epoch: 50 s on 1, 200 s on 2).
    cpu_threads: int | None = None
    # Layers with weights on the longest path, as the paper counts them (LeNet-5: 5, AlexNet: 8,
    # ResNet-20: 20): what "deeper" means when the site compares the networks' errors.
    depth: int = 0


CATALOGUE: tuple[Baseline, ...] = (
    Baseline(
        arch="baseline-mlp",
        depth=2,
        method_name="MLP 784-30-10, sigmoid (Nielsen)",
        year=2015,
        citation=(
            "M. A. Nielsen, Neural Networks and Deep Learning, Determination Press, 2015, "
            "ch. 1 (perceptron/back-propagation lineage: Rumelhart, Hinton & Williams 1986)"
        ),
        recipe=Recipe(epochs=60, batch_size=10, lr=0.05, weight_decay=3e-4, shift=0),
        fast=True,
        cpu_threads=1,
    ),
    Baseline(
        arch="baseline-lenet5",
        depth=5,
        method_name="LeNet-5",
        year=1998,
        citation=(
            "Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, Gradient-based learning applied to "
            "document recognition, Proc. IEEE 86(11), 1998"
        ),
        recipe=Recipe(epochs=15, lr=0.05),
        fast=True,
        cpu_threads=1,
    ),
    Baseline(
        arch="baseline-alexnet-small",
        depth=8,
        method_name="AlexNet (1/8 width, batch norm)",
        year=2012,
        citation=(
            "A. Krizhevsky, I. Sutskever, G. E. Hinton, ImageNet Classification with Deep "
            "Convolutional Neural Networks, NeurIPS 2012"
        ),
        recipe=Recipe(epochs=14, lr=0.05, shift=0),
        fast=True,
        cpu_threads=1,
    ),
    Baseline(
        arch="baseline-alexnet",
        depth=8,
        method_name="AlexNet (batch norm)",
        year=2012,
        citation=(
            "A. Krizhevsky, I. Sutskever, G. E. Hinton, ImageNet Classification with Deep "
            "Convolutional Neural Networks, NeurIPS 2012"
        ),
        recipe=Recipe(epochs=20, batch_size=256, lr=0.03),
    ),
    Baseline(
        arch="baseline-vgg11",
        depth=11,
        method_name="VGG-11 (with batch norm)",
        year=2014,
        citation=(
            "K. Simonyan, A. Zisserman, Very Deep Convolutional Networks for Large-Scale Image "
            "Recognition, arXiv:1409.1556, 2014"
        ),
        # 10 epochs: about 80 min of one CPU core here (8 min an epoch beside another run).
        recipe=Recipe(epochs=10, batch_size=256, lr=0.1),
        cpu_ok=True,
        cpu_threads=1,
    ),
    Baseline(
        arch="baseline-googlenet",
        depth=22,
        method_name="GoogLeNet (Inception v1, with batch norm)",
        year=2014,
        citation="C. Szegedy et al., Going Deeper with Convolutions, arXiv:1409.4842, 2014",
        recipe=Recipe(epochs=15, batch_size=256, lr=0.1),
    ),
    Baseline(
        arch="baseline-resnet20",
        depth=20,
        method_name="ResNet-20 (the paper's CIFAR network)",
        year=2015,
        citation=(
            "K. He, X. Zhang, S. Ren, J. Sun, Deep Residual Learning for Image Recognition, "
            "arXiv:1512.03385, 2015, section 4.2"
        ),
        recipe=Recipe(epochs=30, lr=0.1),
        cpu_ok=True,
        cpu_threads=1,
    ),
    Baseline(
        arch="baseline-resnet18",
        depth=18,
        method_name="ResNet-18",
        year=2015,
        citation=(
            "K. He, X. Zhang, S. Ren, J. Sun, Deep Residual Learning for Image Recognition, "
            "arXiv:1512.03385, 2015"
        ),
        recipe=Recipe(epochs=20, batch_size=256, lr=0.1),
    ),
    Baseline(
        arch="baseline-se-resnet18",
        depth=18,
        method_name="SE-ResNet-18",
        year=2017,
        citation="J. Hu, L. Shen, G. Sun, Squeeze-and-Excitation Networks, arXiv:1709.01507, 2017",
        recipe=Recipe(epochs=20, batch_size=256, lr=0.1),
    ),
)


def get(arch: str) -> Baseline:
    """The catalogue entry for a registry name (or its short form: ``lenet5``)."""
    wanted = arch if arch.startswith("baseline-") else f"baseline-{arch}"
    for baseline in CATALOGUE:
        if baseline.arch == wanted:
            return baseline
    known = ", ".join(b.arch.removeprefix("baseline-") for b in CATALOGUE)
    raise KeyError(f"unknown baseline {arch!r}; known: {known}")


def speed_label(baseline: Baseline) -> str:
    """'fast' (seeded by default), 'cpu' (an hour or so on one core) or 'gpu'."""
    return "fast" if baseline.fast else "cpu" if baseline.cpu_ok else "gpu"


def fast() -> list[Baseline]:
    return [b for b in CATALOGUE if b.fast]
