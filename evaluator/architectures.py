"""Architectures a safetensors submission can name: the platform decides which code runs.

A safetensors file holds weights only; the network that uses them is built here from a name,
so no participant code is ever imported. Builders never download pretrained weights. The first
convolution is rebuilt for the challenge's channel count with the same hyper-parameters and the
same attribute name, so that ``state_dict`` keys match a model built the same way by a
participant (``architectures.build(name, in_channels=1, num_classes=10)``) before training.

torchvision's classics are registered here, and a pinned list of timm's networks as
``timm/<name>`` (``_TIMM``). More networks come from plugins, which the registry's caller
installs and the evaluator never imports by name (after torchvision's ``models/_api.py``): an
entry point of the group ``evaluator.architectures`` names a function ``module:attr`` that is
called with ``register`` and adds its networks with it, e.g. in ``pyproject.toml``::

    [project.entry-points."evaluator.architectures"]
    baselines = "baselines.architectures:register"

Each name has a family (``families``): ``torchvision``, ``timm``, or for a plugin's networks the
top-level package of its module (``baselines``). Plugins are found from the installed entry
points on first use. The sandboxed child has no installed metadata to search: its parent passes
the plugins it found (``use_plugins``) and binds each plugin's module beside the evaluator
(``evaluator.sandbox.runner.code_binds``), so a plugin module must import nothing but torch,
the evaluator and itself. timm is imported from the Python environment, which the sandbox binds
read-only like torch.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

Builder = Callable[..., "nn.Module"]  # builder(*, in_channels: int, num_classes: int) -> nn.Module
Register = Callable[[str, Builder], None]  # what a plugin is called with: ``register`` below

ENTRY_POINT_GROUP = "evaluator.architectures"

_BUILDERS: dict[str, Builder] = {}
_FAMILIES: dict[str, str] = {}  # name -> family; a name missing here is in no family ("")
_plugins: tuple[str, ...] | None = None  # "module:attr" of each plugin; None: not yet discovered
_loaded: set[str] = set()

_TORCHVISION = (
    "alexnet",
    "convnext_small",
    "convnext_tiny",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_v2_s",
    "mnasnet0_5",
    "mnasnet1_0",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "regnet_x_400mf",
    "regnet_y_400mf",
    "regnet_y_800mf",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0",
    "squeezenet1_0",
    "squeezenet1_1",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "wide_resnet50_2",
)
# Constructor options that make the torchvision network a plain single-output classifier.
_TORCHVISION_OPTIONS: dict[str, dict[str, Any]] = {
    "googlenet": {"aux_logits": False, "init_weights": True},
    "inception_v3": {"aux_logits": False, "init_weights": True},
}

# timm 1.0.31 (requirements/base.txt), built as ``timm/<name>`` with ``timm.create_model(name,
# pretrained=False, num_classes=..., in_chans=...)``: exactly as a participant builds the network
# before training, so the state_dict keys match. Each builds and runs at the smallest input a
# challenge here has, 1x28x28 (tests/evaluator/test_timm_architectures.py). Left out because they
# cannot run at 28x28 with a builder's arguments, which carry no image size:
# - ViT, DeiT, Swin, MLP-Mixer (vit_tiny_patch16_224, deit_tiny_patch16_224...): a fixed
#   img_size of 224 (their position embeddings' shape depends on it);
# - ConvNeXt (convnext_atto, convnext_nano), EdgeNeXt: total stride 32 with a 2x2 downsampling
#   convolution, which fails below 32x32;
# - DenseNet, VGG, GhostNetV2, LeViT, EfficientFormer, DLA, HRNet: a pooling or attention size
#   that 28x28 reduces to nothing, or a shape mismatch.
TIMM_PREFIX = "timm/"
_TIMM = (
    "efficientnet_b0",
    "efficientvit_b0",
    "fastvit_t8",
    "ghostnet_100",
    "lcnet_050",
    "mobilenetv3_large_100",
    "mobilenetv3_small_100",
    "mobilenetv4_conv_small",
    "mobilevit_xxs",
    "regnety_002",
    "resnet18",
    "resnet50",
    "rexnet_100",
    "seresnext26d_32x4d",
)


def register(name: str, builder: Builder, *, family: str = "") -> None:
    """Add an architecture; names are unique so a submission always means one network."""
    if name in _BUILDERS:
        raise ValueError(f"architecture {name!r} is already registered")
    _BUILDERS[name] = builder
    _FAMILIES[name] = family


def build(name: str, *, in_channels: int, num_classes: int) -> nn.Module:
    """A freshly initialised network (no pretrained weights) for this input and class count."""
    _load_plugins()
    try:
        builder = _BUILDERS[name]
    except KeyError:
        raise KeyError(unknown_message(name)) from None
    return builder(in_channels=in_channels, num_classes=num_classes)


def names() -> list[str]:
    _load_plugins()
    return sorted(_BUILDERS)


def families() -> dict[str, str]:
    """Every name (sorted) with its family: torchvision, timm or the plugin's package."""
    _load_plugins()
    return {name: _FAMILIES.get(name, "") for name in sorted(_BUILDERS)}


def unknown_message(name: str) -> str:
    """Say the name is unknown and show a few valid ones (close matches first)."""
    import difflib

    _load_plugins()
    close = difflib.get_close_matches(name, _BUILDERS, n=5, cutoff=0.5)
    shown = close or names()[:8]
    return f"unknown architecture {name!r}; {len(_BUILDERS)} are available, e.g. {', '.join(shown)}"


def adapt_first_conv(model: nn.Module, in_channels: int) -> nn.Module:
    """Replace the first Conv2d by one taking ``in_channels``, keeping its name and settings."""
    from torch import nn

    for qualified, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            if module.in_channels == in_channels:
                return model
            parent_name, _, attr = qualified.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, attr, _conv_like(module, in_channels))
            return model
    raise ValueError(f"{type(model).__name__} has no Conv2d to adapt")


def _conv_like(conv: nn.Conv2d, in_channels: int) -> nn.Conv2d:
    from torch import nn

    if conv.groups != 1:
        raise ValueError("cannot change the input channels of a grouped first convolution")
    return nn.Conv2d(
        in_channels,
        conv.out_channels,
        kernel_size=conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=1,
        bias=conv.bias is not None,
        padding_mode=conv.padding_mode,
    )


def _torchvision_builder(name: str) -> Builder:
    def build_torchvision(*, in_channels: int, num_classes: int) -> nn.Module:
        import torchvision.models

        constructor = getattr(torchvision.models, name)
        options = _TORCHVISION_OPTIONS.get(name, {})
        model = constructor(weights=None, num_classes=num_classes, **options)
        return adapt_first_conv(model, in_channels)

    build_torchvision.__name__ = f"build_{name}"
    return build_torchvision


for _name in sorted((*_TORCHVISION, *_TORCHVISION_OPTIONS)):
    register(_name, _torchvision_builder(_name), family="torchvision")


def _timm_builder(name: str) -> Builder:
    def build_timm(*, in_channels: int, num_classes: int) -> nn.Module:
        # Nothing is ever downloaded: no pretrained weights are asked for, and huggingface_hub
        # (imported by timm) reads this when imported, so it makes no request to the hub at all.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import timm

        return timm.create_model(
            name, pretrained=False, num_classes=num_classes, in_chans=in_channels
        )

    build_timm.__name__ = f"build_timm_{name}"
    return build_timm


for _name in _TIMM:
    register(TIMM_PREFIX + _name, _timm_builder(_name), family="timm")


def plugins() -> tuple[str, ...]:
    """The plugins' ``module:attr`` names: the installed entry points, found once per process,
    or those given to ``use_plugins``."""
    global _plugins
    if _plugins is None:
        from importlib.metadata import entry_points

        _plugins = tuple(sorted({ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}))
    return _plugins


def use_plugins(values: Sequence[str]) -> None:
    """Take exactly these plugins (``module:attr``) instead of the installed entry points.

    The sandboxed child calls this with what its parent found: it searches nothing itself.
    """
    global _plugins
    _plugins = tuple(values)


def _load_plugins() -> None:
    """Call each plugin not yet called with ``register``.

    A plugin whose module is not importable here is left out, as a network no submission can
    name; any other failure of a plugin is raised.
    """
    for value in plugins():
        if value in _loaded:
            continue
        _loaded.add(value)
        module_name, _, attr = value.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not f"{module_name}.".startswith(f"{exc.name}."):
                raise
            continue
        family = module_name.partition(".")[0]

        def add(name: str, builder: Builder, family: str = family) -> None:
            register(name, builder, family=family)

        getattr(module, attr)(add)
