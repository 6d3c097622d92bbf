"""Which input layout and which output of an ONNX model the scorer uses, from its header alone.

Exporters do not all write ``[N, C, H, W]`` in, ``[N, num_classes]`` out. scikit-learn through
skl2onnx takes a flat ``[N, C*H*W]`` input and returns the predicted label first, then the
probabilities; Keras through tf2onnx takes channels last, ``[N, H, W, C]``. Where the declared
shapes allow exactly one reading, the images are fed that way: ``nchw`` as they are stored,
``nhwc`` transposed, ``flat`` flattened in C, H, W order. Among several outputs, the one
floating-point output that can be ``[N, num_classes]`` is used (integer outputs, a predicted
label, are ignored); where more than one can, one named ``logits``, ``probabilities``,
``output_probability`` or ``scores`` is preferred. Anything else is refused with one message
that says what to change.

The same decision is made in three places from the same bytes: the web request that takes an
upload (``check_upload``: a bounded read, so a file that can never load costs no submission),
the sandboxed child that runs the model (``load_onnx`` follows it), and the trusted parent that
writes the score's record (``model_input_layout``): the record never takes the child's word.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluator.errors import UnsupportedFormat
from evaluator.formats import onnx_wire
from evaluator.formats.base import ModelFormat
from evaluator.formats.onnx_wire import GraphIo, ValueInfo
from evaluator.formats.protowire import OverBudget, WireError
from evaluator.spec import InputSpec

LAYOUTS = ("nchw", "nhwc", "flat")
PREFERRED_OUTPUTS = ("logits", "probabilities", "output_probability", "scores")
# Graph fields read for the decision: every node is one (its content is skipped). The web
# request reads at most UPLOAD_FIELDS (about 0.2 s; image classifiers have hundreds to a few
# thousand nodes) and leaves a larger graph to the worker; the child and the worker's parent
# read up to RUN_FIELDS (about 1.5 s) and refuse a larger graph.
UPLOAD_FIELDS = 50_000
RUN_FIELDS = 500_000
FLOAT_TYPES = frozenset({1, 10, 11, 16})  # float, float16, double, bfloat16
FED_TYPE = 1  # the scorer feeds float32
_TYPE_NAMES = {1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32"}
_TYPE_NAMES |= {7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "double"}
_TYPE_NAMES |= {12: "uint32", 13: "uint64", 16: "bfloat16"}
_SHOWN_NAME = 80
ZIPMAP_FIX = (
    "export with `options={'zipmap': False}` (or `options={id(model): {'zipmap': False}}`) "
    "so that the probabilities are one float tensor [N, num_classes]"
)


@dataclass(frozen=True)
class OnnxIo:
    """How the scorer runs the model: the input it feeds, in which layout, the output it reads."""

    input_name: str
    input_dims: tuple[int | str | None, ...] | None  # as declared; None: no shape declared
    input_layout: str  # one of LAYOUTS
    output_name: str
    fixed_batch: int | None  # a static batch axis

    def describe(self) -> str:
        """One line for people: 'input X [N, 784] fed flat; output probabilities'."""
        return (
            f"input {_shown(self.input_name)} {_dims_text(self.input_dims)} fed "
            f"{_LAYOUT_WORDS[self.input_layout]}; output {_shown(self.output_name)}"
        )


_LAYOUT_WORDS = {
    "nchw": "channels first",
    "nhwc": "channels last (transposed)",
    "flat": "flat (flattened in C, H, W order)",
}


def plan_onnx_io(
    path: Path, *, spec: InputSpec, num_classes: int, max_fields: int = RUN_FIELDS
) -> OnnxIo:
    """The input layout and output the scorer uses, or UnsupportedFormat saying what to change.

    Reads the graph's declared inputs and outputs through ``onnx_wire`` (never the full parser);
    a graph with more than ``max_fields`` fields is OverBudget (see ``check_upload``).
    """
    path = Path(path)
    io = _read(path, max_fields=max_fields)
    inputs = [v for v in io.inputs if v.name not in io.initializers]
    if len(inputs) != 1:
        names = ", ".join(_shown(v.name) for v in inputs)
        raise UnsupportedFormat(
            f"{path.name}: the ONNX model has {len(inputs)} inputs ({names}); exactly one image "
            "input is accepted"
        )
    image = inputs[0]
    layout = _input_layout(path.name, image, spec)
    batch = image.dims[0] if image.dims else None
    return OnnxIo(
        input_name=image.name,
        input_dims=image.dims,
        input_layout=layout,
        output_name=_output(path.name, io.outputs, num_classes).name,
        fixed_batch=batch if isinstance(batch, int) and batch > 0 else None,
    )


def check_upload(path: Path, *, spec: InputSpec, num_classes: int) -> OnnxIo | None:
    """``plan_onnx_io`` within the web request's budget: None when the graph is too large to
    read there (the worker decides then, with the same rules)."""
    try:
        return plan_onnx_io(path, spec=spec, num_classes=num_classes, max_fields=UPLOAD_FIELDS)
    except _OverBudget:
        return None


def model_input_layout(path: Path, *, fmt: ModelFormat, spec: InputSpec, num_classes: int) -> str:
    """The layout a model is fed in: decided from an ONNX file's header, "nchw" for the rest."""
    if ModelFormat(fmt) is not ModelFormat.ONNX:
        return "nchw"
    return plan_onnx_io(path, spec=spec, num_classes=num_classes).input_layout


def fed_shape(layout: str, batch: int, channels: int, height: int, width: int) -> list[int]:
    """The shape of a batch as the model receives it."""
    if layout == "nhwc":
        return [batch, height, width, channels]
    if layout == "flat":
        return [batch, channels * height * width]
    return [batch, channels, height, width]


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """A normalised float (N, C, H, W) batch in the layout the model reads."""
    if layout == "nhwc":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    if layout == "flat":
        return np.ascontiguousarray(x).reshape(len(x), -1)
    return x


class _OverBudget(Exception):
    pass


def _read(path: Path, *, max_fields: int) -> GraphIo:
    try:
        size = path.stat().st_size
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return onnx_wire.graph_io(buf, size, max_fields=max_fields)
    except OverBudget as exc:
        if max_fields < RUN_FIELDS:
            raise _OverBudget from exc
        raise UnsupportedFormat(
            f"{path.name}: the ONNX graph has more than {max_fields} entries (nodes, weights, "
            "inputs and outputs); it is too large to be read"
        ) from exc
    except OSError as exc:
        raise UnsupportedFormat(
            f"{path.name}: cannot read the model file ({exc.strerror})."
        ) from exc
    except (WireError, ValueError) as exc:
        raise UnsupportedFormat(
            f"{path.name}: the ONNX graph's inputs and outputs cannot be read (a damaged file)"
        ) from exc


def _input_layout(filename: str, image: ValueInfo, spec: InputSpec) -> str:
    c, h, w = spec.channels, spec.height, spec.width
    if image.kind != "tensor":
        raise UnsupportedFormat(
            f"{filename}: the ONNX input {_shown(image.name)} is a {image.kind}; the scorer "
            f"feeds one float32 tensor of images, {_accepted(spec)}"
        )
    if image.elem_type not in (0, FED_TYPE):
        raise UnsupportedFormat(
            f"{filename}: the ONNX input {_shown(image.name)} is declared "
            f"{_type_name(image.elem_type)}; the scorer feeds float32 (declare the input as "
            "float32, e.g. FloatTensorType in skl2onnx)"
        )
    dims = image.dims
    if dims is None:  # no declared shape: fed as stored, as before
        return "nchw"
    declared = f"{filename}: the ONNX input {_shown(image.name)} is declared {_dims_text(dims)}"
    if len(dims) == 2 and _reads(dims[1:], (c * h * w,)):
        return "flat"
    if len(dims) == 4:
        rest = dims[1:]
        first, last = _reads(rest, (c, h, w)), _reads(rest, (h, w, c))
        if first and (not last or not any(isinstance(d, int) for d in rest)):
            return "nchw"  # fully symbolic: fed as stored, as before
        if last and not first:
            return "nhwc"
        if first and last:
            raise UnsupportedFormat(
                f"{declared}, which reads both as channels first [N, {c}, {h}, {w}] and as "
                f"channels last [N, {h}, {w}, {c}]: the scorer cannot tell which. Export it "
                f"channels first, or flat [N, {c * h * w}]"
            )
    raise UnsupportedFormat(f"{declared}; for this challenge's images {_accepted(spec)}")


def _accepted(spec: InputSpec) -> str:
    c, h, w = spec.channels, spec.height, spec.width
    return (
        f"the scorer accepts [N, {c}, {h}, {w}] (channels first), [N, {h}, {w}, {c}] "
        f"(channels last) or [N, {c * h * w}] (flat, in C, H, W order)"
    )


def _reads(dims: tuple[int | str | None, ...], expected: tuple[int, ...]) -> bool:
    """Every static dimension equals the expected one (symbolic ones read as anything)."""
    return len(dims) == len(expected) and all(
        not isinstance(d, int) or d == e for d, e in zip(dims, expected, strict=True)
    )


def _output(filename: str, outputs: tuple[ValueInfo, ...], num_classes: int) -> ValueInfo:
    if not outputs:
        raise UnsupportedFormat(f"{filename}: the ONNX model declares no output")
    if len(outputs) == 1:
        only = outputs[0]
        if only.kind == "sequence of maps":
            raise UnsupportedFormat(
                f"{filename}: the ONNX output {_shown(only.name)} is a sequence of maps "
                f"(skl2onnx's ZipMap); {ZIPMAP_FIX}"
            )
        if only.kind != "tensor":
            raise UnsupportedFormat(
                f"{filename}: the ONNX output {_shown(only.name)} is a {only.kind}; expected "
                f"one float tensor [N, {num_classes}] of class scores"
            )
        return only  # its shape and type are checked on the first batch, as they run
    fits = [v for v in outputs if _may_be_scores(v, num_classes)]
    if len(fits) == 1:
        return fits[0]
    listed = ", ".join(_output_text(v) for v in outputs)
    if fits:
        names = {v.name: v for v in fits}
        preferred = next((names[n] for n in PREFERRED_OUTPUTS if n in names), None)
        if preferred is not None:
            return preferred
        raise UnsupportedFormat(
            f"{filename}: the ONNX model has {len(outputs)} outputs ({listed}) and "
            f"{len(fits)} of them could be the class scores. Keep one: export only the "
            f"scores (e.g. torch.onnx.export(..., output_names=['logits'])), or name the one to "
            f"use {', '.join(PREFERRED_OUTPUTS)}"
        )
    if any(v.kind == "sequence of maps" for v in outputs):
        raise UnsupportedFormat(
            f"{filename}: the ONNX model's probabilities are a sequence of maps (skl2onnx's "
            f"ZipMap; outputs: {listed}); {ZIPMAP_FIX}"
        )
    raise UnsupportedFormat(
        f"{filename}: none of the ONNX model's {len(outputs)} outputs ({listed}) is a float "
        f"tensor [N, {num_classes}] of class scores (one score per class of this challenge)"
    )


def _may_be_scores(value: ValueInfo, num_classes: int) -> bool:
    """A floating-point tensor that can be [N, num_classes] (undeclared parts allowed)."""
    if value.kind != "tensor" or value.elem_type not in FLOAT_TYPES | {0}:
        return False
    dims = value.dims
    return dims is None or (len(dims) == 2 and _reads(dims[1:], (num_classes,)))


def _output_text(value: ValueInfo) -> str:
    if value.kind != "tensor":
        return f"{_shown(value.name)} ({value.kind})"
    return f"{_shown(value.name)} ({_type_name(value.elem_type)} {_dims_text(value.dims)})"


def _type_name(elem_type: int) -> str:
    if elem_type == 0:
        return "untyped"
    return _TYPE_NAMES.get(elem_type, f"type {elem_type}")


def _dims_text(dims: tuple[int | str | None, ...] | None) -> str:
    if dims is None:
        return "of undeclared shape"
    shown = ["N" if i == 0 and not isinstance(d, int) else d for i, d in enumerate(dims)]
    return "[" + ", ".join("?" if d is None else str(d)[:20] for d in shown) + "]"


def _shown(name: str) -> str:
    """A name for a message: quoted, cut, control characters replaced."""
    text = "".join(ch if ch.isprintable() else "?" for ch in name[:_SHOWN_NAME])
    return repr(text + ("..." if len(name) > _SHOWN_NAME else ""))
