"""First-layer filters (Krizhevsky et al. 2012, Figure 3): find them, then tile them into a grid.

Where they are read depends on what reading costs in trust. safetensors weights and ONNX
initialisers are plain data, parsed here in the trusted parent without running any of the
participant's code. torch.export and TorchScript archives can run code when loaded, so the
sandboxed child finds the first convolution of the loaded module (``first_conv_of_module``)
and hands back only the weight array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_FILTERS = 128  # shown; a ViT stem has 768, AlexNet 96, ResNet 64
MAX_IN_CHANNELS = 16
MAX_KERNEL = 64
GAP = 1  # pixels between tiles, at the filters' own resolution


class FiltersUnavailable(Exception):
    """The model's first layer is not a readable 2-D convolution; the message says why."""


@dataclass(frozen=True)
class FirstConv:
    name: str  # the weight's name in the file or module (conv1.weight, features.0.weight...)
    weight: np.ndarray  # float32 (out_channels, in_channels, kh, kw)


@dataclass(frozen=True)
class FilterGrid:
    image: np.ndarray  # uint8 (H, W) for grey filters or (H, W, 3) for colour ones
    rows: int
    cols: int
    shown: int  # filters drawn (at most MAX_FILTERS)


def checked_weight(weight: np.ndarray, *, name: str) -> FirstConv:
    """A finite float (out, in, kh, kw) array of sane size, or FiltersUnavailable."""
    weight = np.asarray(weight)
    if weight.ndim != 4 or weight.dtype.kind != "f":
        raise FiltersUnavailable(
            f"the first convolution's weight {name!r} is {weight.dtype} {list(weight.shape)}, "
            "not a float (out, in, height, width) array"
        )
    _out, inputs, kh, kw = weight.shape
    if min(weight.shape) < 1 or inputs > MAX_IN_CHANNELS or max(kh, kw) > MAX_KERNEL:
        raise FiltersUnavailable(
            f"the first convolution's weight {name!r} has shape {list(weight.shape)}: "
            "too large to draw as image filters"
        )
    weight = np.nan_to_num(weight.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return FirstConv(name=name, weight=weight)


def first_conv_of_module(module: object) -> FirstConv:
    """The first 2-D convolution a torch module runs (child side: the module is untrusted).

    An exported program's graph gives the order of execution; otherwise modules are taken in
    definition order, which for TorchScript and ordinary networks is the order they run in.
    """
    import torch

    graph = getattr(module, "graph", None)
    if isinstance(module, torch.fx.GraphModule) and graph is not None:
        return _first_conv_in_fx_graph(module)
    for name, sub in module.named_modules():  # type: ignore[attr-defined]
        is_conv = isinstance(sub, torch.nn.Conv2d) or getattr(sub, "original_name", "") == "Conv2d"
        weight = getattr(sub, "weight", None)
        if is_conv and isinstance(weight, torch.Tensor):
            return checked_weight(_host(weight), name=f"{name}.weight" if name else "weight")
    raise FiltersUnavailable("the model has no 2-D convolution layer (Conv2d)")


def first_conv_of_onnx(path: Path) -> FirstConv:
    """The weight initializer of the first Conv node (nodes are stored in execution order)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path), load_external_data=False)
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "Conv" or len(node.input) < 2:
            continue
        tensor = initializers.get(node.input[1])
        if tensor is None:
            raise FiltersUnavailable(
                f"the first Conv node's weight {node.input[1]!r} is computed, not stored "
                "(quantised or folded weights cannot be drawn)"
            )
        return checked_weight(numpy_helper.to_array(tensor), name=tensor.name)
    raise FiltersUnavailable("the ONNX graph has no Conv node")


def first_conv_of_safetensors(
    path: Path, *, arch: str, in_channels: int, num_classes: int
) -> FirstConv:
    """Read the named architecture's first Conv2d weight from the file; nothing is executed.

    The architecture (platform code) is built on the meta device, which allocates nothing,
    only to learn the weight's key.
    """
    import torch
    from safetensors import safe_open

    from evaluator import architectures

    with torch.device("meta"):
        module = architectures.build(arch, in_channels=in_channels, num_classes=num_classes)
    key = next(
        (
            f"{name}.weight"
            for name, sub in module.named_modules()
            if isinstance(sub, torch.nn.Conv2d)
        ),
        None,
    )
    if key is None:
        raise FiltersUnavailable(f"architecture {arch!r} has no 2-D convolution layer")
    with safe_open(str(path), framework="pt") as f:
        if key not in f.keys():  # noqa: SIM118 - safe_open has keys(), no __contains__
            raise FiltersUnavailable(f"the weights file has no tensor {key!r}")
        return checked_weight(_host(f.get_tensor(key)), name=key)


def filter_grid(weight: np.ndarray) -> FilterGrid:
    """Each filter scaled to 0..255 on its own (min to max), tiled row by row with 1 px gaps.

    Three input channels are drawn in colour, as in AlexNet's figure; any other count as the
    mean over input channels in grey (exact for one-channel inputs).
    """
    shown = min(len(weight), MAX_FILTERS)
    w = weight[:shown].astype(np.float64)
    tiles = w.transpose(0, 2, 3, 1) if w.shape[1] == 3 else w.mean(axis=1)[..., None]
    low = tiles.min(axis=(1, 2, 3), keepdims=True)
    span = tiles.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = np.where(span > 0, (tiles - low) / np.where(span > 0, span, 1.0), 0.5)
    tiles_u8 = np.rint(scaled * 255.0).astype(np.uint8)
    rows, cols = grid_shape(shown)
    _, kh, kw, channels = tiles_u8.shape
    image = np.full(
        (GAP + rows * (kh + GAP), GAP + cols * (kw + GAP), channels), 255, dtype=np.uint8
    )
    for i, tile in enumerate(tiles_u8):
        top, left = GAP + (i // cols) * (kh + GAP), GAP + (i % cols) * (kw + GAP)
        image[top : top + kh, left : left + kw] = tile
    return FilterGrid(
        image=image[..., 0] if channels == 1 else image, rows=rows, cols=cols, shown=shown
    )


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) near square, wider than tall, with no empty tile where a divisor allows.

    96 filters give AlexNet's 8 x 12, 64 give 8 x 8, a prime count a square with a ragged end.
    """
    side = math.ceil(math.sqrt(n))
    cols = next((c for c in range(side, 2 * side + 1) if n % c == 0), side)
    return math.ceil(n / cols), cols


def _first_conv_in_fx_graph(module: object) -> FirstConv:
    """The weight feeding the first convolution call of an exported program's graph."""
    import torch

    for node in module.graph.nodes:  # type: ignore[attr-defined]
        target = getattr(node.target, "__name__", str(node.target))
        if node.op != "call_function" or not target.startswith(("conv2d", "convolution")):
            continue
        weight_node = node.args[1] if len(node.args) > 1 else None
        if getattr(weight_node, "op", None) != "get_attr":
            raise FiltersUnavailable("the first convolution's weight is computed, not stored")
        value: object = module
        for part in str(weight_node.target).split("."):
            value = getattr(value, part)
        if not isinstance(value, torch.Tensor):
            raise FiltersUnavailable("the first convolution's weight is not a tensor")
        return checked_weight(_host(value), name=str(weight_node.target))
    raise FiltersUnavailable("the exported program runs no 2-D convolution")


def _host(tensor: object) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()  # type: ignore[attr-defined]
