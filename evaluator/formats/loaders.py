"""Turn a model file into a LoadedModel, one small loader per accepted format.

Runs inside the sandbox child only: torch.export and TorchScript archives can execute code when
loaded, and even ONNX or safetensors parsing is kept out of the process that holds the labels.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluator import architectures
from evaluator.errors import ModelLoadError, first_line
from evaluator.formats.base import LoadedModel, ModelFormat
from evaluator.spec import InputSpec

if TYPE_CHECKING:
    import torch

    from evaluator.formats.onnx_io import OnnxIo

_SHOWN_KEYS = 5


def load_model(
    *,
    path: Path,
    fmt: ModelFormat,
    arch: str | None,
    spec: InputSpec,
    num_classes: int,
    device: str,
) -> LoadedModel:
    """Load ``path`` (already identified as ``fmt``) ready to run on ``device``."""
    path = Path(path)
    fmt = ModelFormat(fmt)
    if fmt is ModelFormat.ONNX:
        return load_onnx(path=path, spec=spec, num_classes=num_classes, device=device)
    if fmt is ModelFormat.SAFETENSORS:
        return load_safetensors(
            path=path, arch=arch, spec=spec, num_classes=num_classes, device=device
        )
    if fmt is ModelFormat.TORCH_EXPORT:
        return load_torch_export(path=path, device=device)
    return load_torchscript(path=path, device=device)


def available_cores() -> int:
    """Cores this process may run on (the worker may be pinned to fewer than the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def load_onnx(*, path: Path, spec: InputSpec, num_classes: int, device: str) -> LoadedModel:
    """The full check first (UnsupportedFormat: no usable graph, external data), then the input
    layout and output from the header (``onnx_io``, as the parent decides them), then the
    session: the protobuf is parsed here, under the child's memory cap, never in the parent."""
    import onnxruntime as ort

    from evaluator.formats.onnx_check import check_onnx
    from evaluator.formats.onnx_io import plan_onnx_io

    params = sum(_numel(t.dims) for t in check_onnx(path).graph.initializer)
    plan = plan_onnx_io(path, spec=spec, num_classes=num_classes)
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        index = int(device.partition(":")[2] or 0)
        providers.insert(0, ("CUDAExecutionProvider", {"device_id": index}))
    options = ort.SessionOptions()
    options.intra_op_num_threads = available_cores()
    options.inter_op_num_threads = 1
    # No spinning between operators, as OMP_WAIT_POLICY=PASSIVE for torch (sandbox.process).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:
        raise ModelLoadError(
            f"onnxruntime cannot load the ONNX model: {first_line(exc, empty='')}"
        ) from exc
    _check_session(session, plan)
    return LoadedModel(
        kind="onnx",
        format=ModelFormat.ONNX,
        session=session,
        input_name=plan.input_name,
        fixed_batch=plan.fixed_batch,
        input_layout=plan.input_layout,
        output_name=plan.output_name,
        params=params,
        device=device if session.get_providers()[0] == "CUDAExecutionProvider" else "cpu",
    )


def _check_session(session: Any, plan: OnnxIo) -> None:
    """onnxruntime reads the same input and output as the header did (a crafted file could be
    read one way by the wire reader and another by the full parser: refused, not guessed)."""
    inputs, outputs = session.get_inputs(), [o.name for o in session.get_outputs()]
    same_input = len(inputs) == 1 and inputs[0].name == plan.input_name
    if same_input and plan.input_dims is not None:
        shape = list(inputs[0].shape or [])
        same_input = len(shape) == len(plan.input_dims) and all(
            not isinstance(d, int) or not isinstance(s, int) or d == s
            for d, s in zip(plan.input_dims, shape, strict=True)
        )
    if not same_input or plan.output_name not in outputs:
        raise ModelLoadError(
            "onnxruntime reads the model's inputs or outputs differently from its header "
            f"({plan.describe()}); re-export the model with a standard exporter"
        )


def load_safetensors(
    *, path: Path, arch: str | None, spec: InputSpec, num_classes: int, device: str
) -> LoadedModel:
    """Build the named architecture and load the weights strictly (no pickle involved)."""
    from safetensors.torch import load_file

    if not arch:
        raise ModelLoadError(
            "a safetensors file holds weights only: the architecture name is required "
            f"(--arch), one of e.g. {', '.join(architectures.names()[:8])}"
        )
    if arch not in architectures.names():
        raise ModelLoadError(architectures.unknown_message(arch))
    module = architectures.build(arch, in_channels=spec.channels, num_classes=num_classes)
    try:
        state = load_file(str(path), device="cpu")
    except Exception as exc:
        raise ModelLoadError(
            f"cannot read the safetensors weights: {first_line(exc, empty='')}"
        ) from exc
    _check_keys(expected=set(module.state_dict()), found=set(state), arch=arch)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(
            f"the weights do not fit architecture {arch!r} built for {spec.channels} input "
            f"channels and {num_classes} classes: {_first_lines(exc)}"
        ) from exc
    return _torch_model(module, ModelFormat.SAFETENSORS, device)


def load_torch_export(*, path: Path, device: str) -> LoadedModel:
    import torch

    try:
        program = torch.export.load(str(path))
        module = program.module()
    except Exception as exc:
        raise ModelLoadError(
            f"cannot load the torch.export archive: {first_line(exc, empty='')}"
        ) from exc
    loaded = _torch_model(module, ModelFormat.TORCH_EXPORT, device)
    loaded.fixed_batch = _exported_batch(program)
    return loaded


def load_torchscript(*, path: Path, device: str) -> LoadedModel:
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "deprecated": still the format
            module = torch.jit.load(str(path), map_location=device)
    except Exception as exc:
        raise ModelLoadError(
            f"cannot load the TorchScript archive: {first_line(exc, empty='')}"
        ) from exc
    return _torch_model(module, ModelFormat.TORCHSCRIPT, device)


def _torch_model(module: torch.nn.Module, fmt: ModelFormat, device: str) -> LoadedModel:
    with contextlib.suppress(NotImplementedError):  # exported programs keep their export mode
        module.eval()
    try:
        module = module.to(device)
    except Exception as exc:
        raise ModelLoadError(
            f"cannot move the model to {device}: {first_line(exc, empty='')}"
        ) from exc
    params = sum(p.numel() for p in module.parameters())
    return LoadedModel(kind="torch", format=fmt, module=module, params=params, device=device)


def _exported_batch(program: torch.export.ExportedProgram) -> int | None:
    """The batch size an exported program was specialised to, or None if it is dynamic."""
    user_inputs = set(program.graph_signature.user_inputs)
    for node in program.graph.nodes:
        if node.op == "placeholder" and node.name in user_inputs:
            value = node.meta.get("val")
            shape = getattr(value, "shape", None)
            if shape and type(shape[0]) is int:
                return shape[0]
            return None
    return None


def _check_keys(*, expected: set[str], found: set[str], arch: str) -> None:
    missing, unexpected = sorted(expected - found), sorted(found - expected)
    if not missing and not unexpected:
        return
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:_SHOWN_KEYS])})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:_SHOWN_KEYS])})")
    raise ModelLoadError(
        f"the safetensors keys do not match architecture {arch!r}: {'; '.join(parts)}. "
        "Save model.state_dict() of a network built by the same architecture name."
    )


def _numel(dims: Iterable[int]) -> int:
    n = 1
    for d in dims:
        n *= int(d)
    return n


def _first_lines(exc: BaseException, n: int = 3) -> str:
    return " ".join(str(exc).strip().splitlines()[:n])[:800]
