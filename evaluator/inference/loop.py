"""The scoring loop: uint8 images in, float32 logits out, as fast as a bare forward pass.

Runs inside the sandbox child; it never sees labels. The stored set is uint8 at the declared
input size, so each batch is only a copy, a fused multiply-add (normalisation) on the scoring
device and the forward pass. On a GPU the uint8 set is made device-resident when it fits
(otherwise batches are copied from pinned memory on a side stream while the previous batch
computes), torch models run channels_last, and ``bf16`` means autocast. On a CPU everything is
fp32: bf16 autocast is several times slower there.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from evaluator.errors import ModelCheckError, ModelMemoryError, whole_message
from evaluator.formats.base import LoadedModel
from evaluator.formats.onnx_io import fed_shape, to_layout
from evaluator.inference.staging import Stager
from evaluator.spec import InputSpec

PRECISIONS = ("fp32", "bf16")
# Keep the resident copy well under free memory: activations need the rest.
RESIDENT_FRACTION = 0.25


@dataclass
class InferenceResult:
    logits: np.ndarray  # float32 (N, num_classes)
    seconds: float  # the timed loop only: copies, normalisation, forward, logits back to host
    images_per_second: float
    batch_size: int
    n_nonfinite: int  # rows holding NaN or inf; the metrics count them wrong
    precision: str
    resident: bool  # whether the uint8 set was held on the device


def effective_precision(*, device: str, precision: str) -> str:
    """bf16 only where it pays: on a CUDA device. A CPU always runs fp32."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return precision if device.startswith("cuda") else "fp32"


def _affine(spec: InputSpec, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(x/255 - mean)/std as one multiply-add: x*scale + bias, per channel."""
    std = torch.tensor(spec.std, dtype=torch.float32)
    mean = torch.tensor(spec.mean, dtype=torch.float32)
    scale = (1.0 / (255.0 * std)).view(1, -1, 1, 1).to(device)
    bias = (-mean / std).view(1, -1, 1, 1).to(device)
    return scale, bias


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError | MemoryError):
        return True
    text = str(exc).lower()
    markers = ("out of memory", "failed to allocate", "bad_alloc", "can't allocate memory")
    return any(marker in text for marker in markers)


class _Forward:
    """One callable per model kind: uint8 batch in, logits tensor out."""

    def __init__(self, *, model: LoadedModel, spec: InputSpec, device: str, precision: str) -> None:
        self.model = model
        self.device = torch.device(device)
        self.precision = precision
        self.scale, self.bias = _affine(spec, self.device if model.kind == "torch" else "cpu")
        self.cuda = self.device.type == "cuda"
        # onnxruntime takes host arrays; torch models take tensors on the scoring device.
        self.input_device = self.device if model.kind == "torch" else torch.device("cpu")
        self.scale_np, self.bias_np = self.scale.cpu().numpy(), self.bias.cpu().numpy()
        self.outputs = [model.output_name] if model.output_name else None
        self.dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        self.scale_dt, self.bias_dt = self.scale.to(self.dtype), self.bias.to(self.dtype)
        if self.cuda:
            torch.backends.cudnn.benchmark = True  # fixed shapes: autotune once per shape
        if model.kind == "torch" and self.cuda:
            # Some scripted/exported modules refuse; contiguous input still works for them.
            with contextlib.suppress(RuntimeError, TypeError, AttributeError):
                model.module.to(memory_format=torch.channels_last)

    def normalise(self, batch_u8: torch.Tensor) -> torch.Tensor:
        if not self.cuda:
            return torch.addcmul(self.bias, batch_u8.float(), self.scale)
        # One cast straight to the compute dtype and layout, then one multiply-add. uint8 values
        # are exact in bf16, and autocast would cast the conv input to bf16 anyway.
        x = batch_u8.to(dtype=self.dtype, memory_format=torch.channels_last)
        return torch.addcmul(self.bias_dt, x, self.scale_dt)

    def __call__(self, batch_u8: torch.Tensor) -> torch.Tensor:
        if self.model.kind == "onnx":
            return self._onnx(batch_u8)
        x = self.normalise(batch_u8)
        if self.precision == "bf16":
            with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16):
                out = self.model.module(x)
        else:
            out = self.model.module(x)
        return _as_tensor(out)

    def _onnx(self, batch_u8: torch.Tensor) -> torch.Tensor:
        # numpy, not torch: torch's OpenMP threads would spin against onnxruntime's own pool.
        x = batch_u8.numpy().astype(np.float32)
        x *= self.scale_np
        x += self.bias_np
        x = to_layout(x, self.model.input_layout)  # channels last or flat, as its header reads
        fixed = self.model.fixed_batch
        n = x.shape[0]
        if fixed is not None and n < fixed:  # a static batch axis: pad, then drop the padding
            x = np.concatenate([x, np.zeros((fixed - n, *x.shape[1:]), np.float32)])
        (out,) = self.model.session.run(self.outputs, {self.model.input_name: x})[:1]
        return torch.from_numpy(np.asarray(out)[:n])


def _as_tensor(out: object) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    raise ModelCheckError(
        f"the model returned {type(out).__name__}; it must return one tensor of logits "
        "shaped [batch, num_classes] (drop auxiliary heads before exporting)"
    )


def _check_output(out: torch.Tensor, *, batch: int, num_classes: int) -> None:
    shape = list(out.shape)
    if shape != [batch, num_classes]:
        raise ModelCheckError(
            f"output shape is {shape} for a batch of {batch}; expected [{batch}, {num_classes}] "
            f"(one score per class of this challenge)"
        )
    if not out.is_floating_point():
        raise ModelCheckError(f"output dtype is {out.dtype}; expected floating-point logits")


def _probe(
    *, forward: _Forward, images: np.ndarray, num_classes: int, batch_size: int
) -> tuple[int, torch.Tensor]:
    """Find a batch size the model accepts and check its output; doubles as the warm-up."""
    fixed = forward.model.fixed_batch
    b = fixed if fixed is not None else max(1, min(batch_size, len(images)))
    while True:
        sample = _host_tensor(images[: min(b, len(images))])
        try:
            with torch.inference_mode():
                out = forward(sample.to(forward.input_device))
            _check_output(out, batch=len(sample), num_classes=num_classes)
            return b, out
        except ModelCheckError:
            raise
        except Exception as exc:  # any failure of untrusted code is reported
            if forward.cuda:
                torch.cuda.empty_cache()
            if b > 1 and fixed is None:
                b = max(1, b // 2)
                continue
            detail = whole_message(exc)
            if _is_oom(exc):
                raise ModelMemoryError(
                    f"the model ran out of memory even at batch size {b}: {detail}"
                ) from exc
            shape = fed_shape(forward.model.input_layout, b, *images.shape[1:])
            raise ModelCheckError(
                f"the model failed on an input of shape {shape} (float32, normalised"
                f"{_declared_input(forward.model)}), from which it should return logits shaped "
                f"[{b}, {num_classes}]: {detail}"
            ) from exc


def _declared_input(model: LoadedModel) -> str:
    """What its header declares ("; its header declares [N, 1, 28, 28]"), for an ONNX model."""
    if model.kind != "onnx":
        return ""
    inputs = [i for i in model.session.get_inputs() if i.name == model.input_name]
    if not inputs:
        return ""
    dims = ", ".join(str(d) if d not in (None, "") else "?" for d in inputs[0].shape)
    return f"; its header declares [{dims}]"


def _host_tensor(array: np.ndarray) -> torch.Tensor:
    """Zero-copy view of a (read-only, memory-mapped) uint8 slice; it is only ever read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "non-writable tensors": never written
        return torch.from_numpy(np.ascontiguousarray(array))


def _warm_remainder(*, forward: _Forward, images: np.ndarray, batch: int) -> None:
    """Run the last, smaller batch's shape once untimed (cuDNN autotunes each new shape)."""
    rest = len(images) % batch
    if forward.cuda and forward.model.kind == "torch" and rest and len(images) > batch:
        with torch.inference_mode():
            forward(_host_tensor(images[:rest]).to(forward.device))
        torch.cuda.synchronize(forward.device)


def _batches(n: int, b: int) -> list[tuple[int, int]]:
    return [(i, min(i + b, n)) for i in range(0, n, b)]


def _resident_fits(images: np.ndarray, device: torch.device) -> bool:
    free, _total = torch.cuda.mem_get_info(device)
    return images.nbytes < RESIDENT_FRACTION * free


def _loop_cpu(forward: _Forward, images: np.ndarray, b: int, out: torch.Tensor) -> None:
    out_np = out.numpy()  # numpy writes: no torch thread pool wakes up between batches
    for lo, hi in _batches(len(images), b):
        out_np[lo:hi] = forward(_host_tensor(images[lo:hi])).float().numpy()


def _loop_cuda(forward: _Forward, stager: Stager, b: int, out: torch.Tensor) -> None:
    """Compute each chunk as soon as its copy lands on the device."""
    for chunk in stager.chunks():
        for lo in range(0, chunk.hi - chunk.lo, b):
            hi = min(lo + b, chunk.hi - chunk.lo)
            out[chunk.lo + lo : chunk.lo + hi] = forward(chunk.images[lo:hi])


def run_inference(
    *,
    model: LoadedModel,
    images: np.ndarray,
    spec: InputSpec,
    num_classes: int,
    device: str,
    batch_size: int,
    precision: str,
) -> InferenceResult:
    """Check the model on one batch, then produce logits for every image, timing the loop."""
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, C, H, W), got {images.dtype} {images.shape}")
    if len(images) == 0:
        raise ValueError("the image set is empty")
    precision = effective_precision(device=device, precision=precision)
    forward = _Forward(model=model, spec=spec, device=device, precision=precision)
    b, probe_out = _probe(
        forward=forward, images=images, num_classes=num_classes, batch_size=batch_size
    )
    if not torch.isfinite(probe_out).any():
        raise ModelCheckError(
            "every output of the first batch is NaN or infinite; check the weights "
            "(a diverged training run?) and the input normalisation"
        )
    if forward.cuda and model.kind == "torch":
        torch.cuda.synchronize(forward.device)
    out_dev = forward.device if (forward.cuda and model.kind == "torch") else torch.device("cpu")
    out = torch.empty((len(images), num_classes), dtype=torch.float32, device=out_dev)
    _warm_remainder(forward=forward, images=images, batch=b)
    stager = None
    if out_dev.type == "cuda":  # buffers are set up untimed, like the model itself
        resident = _resident_fits(images, forward.device)
        stager = Stager(images, device=forward.device, batch=b, resident=resident)
    start = time.perf_counter()
    try:
        with torch.inference_mode():
            if stager is not None:
                _loop_cuda(forward, stager, b, out)
            else:
                _loop_cpu(forward, images, b, out)
        logits = out.cpu().numpy() if out_dev.type == "cuda" else out.numpy()
        seconds = time.perf_counter() - start
    except ModelCheckError:
        raise
    except Exception as exc:  # a later batch can still fail
        if _is_oom(exc):
            raise ModelMemoryError(f"the model ran out of memory while scoring: {exc}") from exc
        raise ModelCheckError(
            f"the model failed while scoring (batch size {b}): {whole_message(exc)}"
        ) from exc
    finally:
        if stager is not None:
            stager.close()
    n_nonfinite = int((~np.isfinite(logits)).any(axis=1).sum())
    return InferenceResult(
        logits=np.ascontiguousarray(logits, dtype=np.float32),
        seconds=seconds,
        images_per_second=len(images) / seconds if seconds > 0 else float("inf"),
        batch_size=b,
        n_nonfinite=n_nonfinite,
        precision=precision,
        resident=stager is not None and stager.resident,
    )
