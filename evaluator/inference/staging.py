"""Getting the uint8 hidden set onto a GPU while the model is already computing.

The set is read in chunks straight from the .npy file's page-cached bytes into a ring of pinned
host buffers by several threads (os.preadv releases the GIL and takes no page faults, unlike a
memory map), copied to the device on a side stream, and consumed by the compute stream as soon
as each chunk's copy event fires. When the set fits in a quarter of free device memory it is
kept whole on the device; otherwise chunks cycle through a device ring.

Buffers are allocated when the Stager is built (pinning host memory costs milliseconds per
buffer), so callers can do that before they start timing, like loading the model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

CHUNK_BYTES = 32 << 20
RING = 8


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


class Stager:
    """Owns the pinned ring, the device buffers, the copy stream and the reader threads."""

    def __init__(
        self, images: np.ndarray, *, device: torch.device, batch: int, resident: bool
    ) -> None:
        self.images, self.device, self.resident = images, device, resident
        n = len(images)
        per_chunk = chunk_images(images.shape, batch)
        self.spans = [(lo, min(lo + per_chunk, n)) for lo in range(0, n, per_chunk)]
        ring = min(RING, len(self.spans))
        shape = (per_chunk, *images.shape[1:])
        self.host = [torch.empty(shape, dtype=torch.uint8, pin_memory=True) for _ in range(ring)]
        self.host_np = [h.numpy() for h in self.host]
        if resident:
            self.whole = torch.empty(images.shape, dtype=torch.uint8, device=device)
        else:
            self.ring = [torch.empty(shape, dtype=torch.uint8, device=device) for _ in range(ring)]
        self.copy_stream = torch.cuda.Stream(device=device)
        self.copied = [torch.cuda.Event() for _ in range(ring)]  # host slot free again
        self.consumed = [torch.cuda.Event() for _ in range(ring)]  # device slot free again
        self.read = _reader(images)
        self.pool = ThreadPoolExecutor(max_workers=min(ring, os.cpu_count() or 1))

    def _fill(self, k: int) -> None:
        lo, hi = self.spans[k]
        slot = k % len(self.host)
        self.copied[slot].synchronize()  # the copy that last read this slot has finished
        self.read(self.host_np[slot], lo, hi)

    def chunks(self) -> Iterator[DeviceChunk]:
        """Yield device chunks in order; the current stream already waits on each copy."""
        ring = len(self.host)
        compute = torch.cuda.current_stream(self.device)
        pending: dict[int, Future] = {}
        for k in range(min(ring - 1, len(self.spans))):
            pending[k] = self.pool.submit(self._fill, k)
        for k, (lo, hi) in enumerate(self.spans):
            if k + ring - 1 < len(self.spans):
                pending[k + ring - 1] = self.pool.submit(self._fill, k + ring - 1)
            pending.pop(k).result()
            slot = k % ring
            target = self.whole[lo:hi] if self.resident else self.ring[slot][: hi - lo]
            with torch.cuda.stream(self.copy_stream):
                if not self.resident:
                    self.copy_stream.wait_event(self.consumed[slot])
                target.copy_(self.host[slot][: hi - lo], non_blocking=True)
                self.copied[slot].record(self.copy_stream)
            compute.wait_event(self.copied[slot])
            yield DeviceChunk(lo=lo, hi=hi, images=target)
            self.consumed[slot].record(compute)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        fd = getattr(self.read, "fd", None)
        if fd is not None:
            os.close(fd)
