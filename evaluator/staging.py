"""Getting the uint8 hidden set onto a GPU while the model is already computing.

The set is read in chunks straight from the .npy file's page-cached bytes into a small ring of
pinned host buffers by a few threads (os.preadv releases the GIL; no page faults of a memory
map), copied to the device on a side stream, and consumed by the compute stream as soon as each
chunk's copy event fires. When the set fits in a quarter of free device memory it is kept whole
on the device (a later pass can reuse it); otherwise chunks cycle through a device ring.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

CHUNK_BYTES = 64 << 20
RING = 4


@dataclass
class DeviceChunk:
    """A span [lo, hi) of the set, on the device, ready once the compute stream waits on it."""

    lo: int
    hi: int
    images: torch.Tensor  # uint8 (hi - lo, C, H, W) on the device


def _reader(images: np.ndarray) -> Callable[[np.ndarray, int, int], None]:
    """Fill a host buffer with images[lo:hi]: pread from the file when it is a memory map."""
    filename = getattr(images, "filename", None)
    offset = getattr(images, "offset", None)
    if isinstance(images, np.memmap) and filename and offset is not None:
        fd = os.open(filename, os.O_RDONLY)
        per_image = int(np.prod(images.shape[1:]))

        def read(buf: np.ndarray, lo: int, hi: int) -> None:
            view = memoryview(buf.reshape(-1)[: (hi - lo) * per_image])
            pos, start = 0, offset + lo * per_image
            while pos < len(view):
                got = os.preadv(fd, [view[pos:]], start + pos)
                if got <= 0:
                    raise OSError(f"short read from {filename} at byte {start + pos}")
                pos += got

        read.fd = fd  # type: ignore[attr-defined]
        return read

    def copy(buf: np.ndarray, lo: int, hi: int) -> None:
        np.copyto(buf[: hi - lo], images[lo:hi])

    return copy


def chunk_images(shape: tuple[int, ...], batch: int) -> int:
    """Images per chunk: about CHUNK_BYTES, a whole number of batches."""
    per_image = int(np.prod(shape[1:]))
    batches = max(1, CHUNK_BYTES // max(1, per_image * batch))
    return batches * batch


def stream_to_device(
    images: np.ndarray, *, device: torch.device, batch: int, resident: bool
) -> Iterator[DeviceChunk]:
    """Yield device chunks in order; the caller's current stream already waits on each copy."""
    n = len(images)
    per_chunk = chunk_images(images.shape, batch)
    spans = [(lo, min(lo + per_chunk, n)) for lo in range(0, n, per_chunk)]
    shape = (per_chunk, *images.shape[1:])
    host = [torch.empty(shape, dtype=torch.uint8).pin_memory() for _ in range(RING)]
    host_np = [h.numpy() for h in host]
    if resident:
        whole = torch.empty(images.shape, dtype=torch.uint8, device=device)
    else:
        ring = [torch.empty(shape, dtype=torch.uint8, device=device) for _ in range(RING)]
    copy_stream = torch.cuda.Stream(device=device)
    copied = [torch.cuda.Event() for _ in range(RING)]  # host slot free again
    consumed = [torch.cuda.Event() for _ in range(RING)]  # device ring slot free again
    compute = torch.cuda.current_stream(device)
    read = _reader(images)
    pool = ThreadPoolExecutor(max_workers=min(RING, os.cpu_count() or 1))
    pending: dict[int, Future] = {}

    def submit(k: int) -> None:
        lo, hi = spans[k]
        slot = k % RING
        pending[k] = pool.submit(lambda: (copied[slot].synchronize(), read(host_np[slot], lo, hi)))

    try:
        for k in range(min(RING - 1, len(spans))):
            submit(k)
        for k, (lo, hi) in enumerate(spans):
            if k + RING - 1 < len(spans):
                submit(k + RING - 1)
            pending.pop(k).result()
            slot = k % RING
            target = whole[lo:hi] if resident else ring[slot][: hi - lo]
            with torch.cuda.stream(copy_stream):
                if not resident:
                    copy_stream.wait_event(consumed[slot])
                target.copy_(host[slot][: hi - lo], non_blocking=True)
                copied[slot].record(copy_stream)
            compute.wait_event(copied[slot])
            yield DeviceChunk(lo=lo, hi=hi, images=target)
            consumed[slot].record(compute)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        fd = getattr(read, "fd", None)
        if fd is not None:
            os.close(fd)
