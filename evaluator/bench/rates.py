"""The benchmark's timings: bare forward passes, our loop with the set on the device, the
staging pipeline's parts, and the torchvision reference pipeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision import transforms

from evaluator.formats.base import LoadedModel
from evaluator.spec import InputSpec


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _autocast(device: torch.device, precision: str):
    enabled = precision == "bf16"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


def bare_rate(
    model: nn.Module, *, spec: InputSpec, n: int, batch: int, device: torch.device, precision: str
) -> float:
    """Images/s of forward passes alone on device-resident random input."""
    fmt = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    x = torch.randn(batch, spec.channels, spec.height, spec.width, device=device)
    x = x.contiguous(memory_format=fmt)
    steps = max(1, -(-n // batch))
    with torch.inference_mode(), _autocast(device, precision):
        for _ in range(3):
            model(x)
        _sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            model(x)
        _sync(device)
    return steps * batch / (time.perf_counter() - start)


def resident_rate(
    loaded: LoadedModel,
    *,
    images: np.ndarray,
    spec: InputSpec,
    batch: int,
    device: torch.device,
    precision: str,
) -> float:
    """Our per-batch work (uint8 slice, normalise, forward) with the set already on the device.

    Where ``ours`` falls short of this, the time goes to moving the set from the page cache to
    the device; where this falls short of ``bare``, to normalisation and per-batch overhead.
    """
    from evaluator.inference.loop import _Forward

    forward = _Forward(model=loaded, spec=spec, device=str(device), precision=precision)
    on_device = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    with torch.inference_mode():
        forward(on_device[:batch])
        _sync(device)
        start = time.perf_counter()
        for lo in range(0, len(on_device), batch):
            forward(on_device[lo : lo + batch])
        _sync(device)
    return len(on_device) / (time.perf_counter() - start)


def transfer_diagnostics(images: np.ndarray, *, device: torch.device, batch: int) -> dict:
    """Where moving the set to the device spends its time: file reads, copies, both overlapped."""
    from evaluator.inference.staging import Stager

    gb = images.nbytes / 1e9
    stager = Stager(images, device=device, batch=batch, resident=True)
    try:
        start = time.perf_counter()
        for k in range(len(stager.spans)):  # reads alone, through the reader threads
            stager.pool.submit(stager.read, stager.host_np[k % len(stager.host)], *stager.spans[k])
        stager.pool.shutdown(wait=True)
        read_s = time.perf_counter() - start
        stager.pool = ThreadPoolExecutor(max_workers=len(stager.host))
        host = stager.host[0]
        _sync(device)
        start = time.perf_counter()
        for _ in range(20):  # host-to-device copies alone, from one pinned buffer
            stager.whole[: len(host)].copy_(host, non_blocking=True)
        _sync(device)
        h2d_gb_s = 20 * host.numel() / 1e9 / (time.perf_counter() - start)
        start = time.perf_counter()
        for _chunk in stager.chunks():  # the whole staging pipeline, no compute
            pass
        _sync(device)
        staged_s = time.perf_counter() - start
    finally:
        stager.close()
    return {
        "set_gb": gb,
        "read_gb_s": gb / read_s,
        "h2d_gb_s": h2d_gb_s,
        "staging_gb_s": gb / staged_s,
    }


def reference_rate(
    model: nn.Module,
    *,
    tree: Path,
    spec: InputSpec,
    batch: int,
    device: torch.device,
    precision: str,
    workers: int,
) -> tuple[float, np.ndarray]:
    """Images/s of the common approach: ImageFolder + PIL transforms + DataLoader, per run."""
    steps: list[Callable] = []
    if spec.channels == 1:
        steps.append(transforms.Grayscale(1))
    if spec.resize_short:
        steps += [transforms.Resize(spec.resize_short), transforms.CenterCrop(spec.height)]
    steps += [transforms.ToTensor(), transforms.Normalize(spec.mean, spec.std)]
    dataset = torchvision.datasets.ImageFolder(str(tree), transform=transforms.Compose(steps))
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        shuffle=False,
    )
    fmt = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    outs = []
    start = time.perf_counter()
    with torch.inference_mode(), _autocast(device, precision):
        for x, _ in loader:
            x = x.to(device, non_blocking=True).contiguous(memory_format=fmt)
            outs.append(model(x).float())
        logits = torch.cat(outs).cpu().numpy()
    return len(dataset) / (time.perf_counter() - start), logits
