"""Every baseline builds for 1 or 3 channels and runs on 28x28 and 224x224 inputs."""

from __future__ import annotations

import math

import pytest
import torch

from baselines import catalogue
from baselines.architectures import BUILDERS
from evaluator import architectures as registry


def test_every_baseline_is_registered_and_catalogued() -> None:
    assert set(BUILDERS) <= set(registry.names())
    assert {b.arch for b in catalogue.CATALOGUE} == set(BUILDERS)
    assert [b.arch for b in catalogue.fast()] == [
        "baseline-mlp",
        "baseline-lenet5",
        "baseline-alexnet-small",
    ]


@pytest.mark.parametrize("arch", sorted(BUILDERS))
@pytest.mark.parametrize("channels", [1, 3])
def test_output_shape_at_28_and_224(arch: str, channels: int) -> None:
    torch.manual_seed(0)
    model = registry.build(arch, in_channels=channels, num_classes=7).eval()
    with torch.inference_mode():
        small = model(torch.randn(3, channels, 28, 28))
        large = model(torch.randn(1, channels, 224, 224))
    assert small.shape == (3, 7)
    assert large.shape == (1, 7)
    assert torch.isfinite(small).all() and torch.isfinite(large).all()


def test_short_names_and_unknown_names() -> None:
    assert catalogue.get("lenet5").arch == "baseline-lenet5"
    with pytest.raises(KeyError, match="known: mlp"):
        catalogue.get("lenet7")


def test_years_tell_the_story() -> None:
    years = {b.arch: b.year for b in catalogue.CATALOGUE}
    assert years["baseline-lenet5"] < years["baseline-alexnet"] < years["baseline-vgg11"]
    assert years["baseline-googlenet"] < years["baseline-resnet18"] < years["baseline-se-resnet18"]


def test_architectures_import_only_torch_the_registry_and_themselves() -> None:
    """The sandbox binds baselines/architectures alone: nothing else of baselines is there."""
    import ast
    from pathlib import Path

    import baselines.architectures as package

    allowed = ("torch", "evaluator.architectures", "baselines.architectures", "__future__")
    for path in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert name.startswith(allowed) or name in ("math",), f"{path.name}: {name}"


def test_vgg_starts_near_chance_so_the_recipe_rate_does_not_kill_its_classifier() -> None:
    """With He's fan-out init on its fully connected layers, VGG-11's first loss on Fashion-MNIST
    was about 16 and its recipe's first epoch ended at chance, the loss stuck at ln 10 (a real
    run, val accuracy 10.0%). Small fully connected weights start it at ln 10 instead."""
    torch.manual_seed(0)
    model = registry.build("baseline-vgg11", in_channels=1, num_classes=10).train()
    with torch.no_grad():
        logits = model(torch.randn(64, 1, 28, 28))
    loss = torch.nn.functional.cross_entropy(logits, torch.randint(0, 10, (64,)))
    assert float(loss) == pytest.approx(math.log(10), abs=0.05)
