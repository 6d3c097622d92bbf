"""The networks a safetensors submission can name, as the evaluator's registry lists them."""

from __future__ import annotations

from evaluator import architectures


def architecture_list() -> list[dict[str, str]]:
    """Every architecture name (sorted) with its family: torchvision, timm or baselines."""
    return [{"name": name, "family": family} for name, family in architectures.families().items()]
