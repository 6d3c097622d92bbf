"""Compile a source into the uint8 (N, C, H, W) images file, on all cores.

Sources already at the declared size take a vectorised path in this process (Fashion-MNIST's
10k test images: well under a second). Anything needing a resize, and every image file, is cut
into chunks that worker processes transform and write straight into the shared output file
(``np.lib.format.open_memmap``), so nothing large travels between processes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Generator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from evaluator.datasets.base import Source
from evaluator.datasets.transform import needs_resize, transform_file, transform_pixels
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec

# Bytes of pixels one chunk should hold (source or output, whichever is larger).
CHUNK_BYTES = 16 * 2**20
MAX_CHUNK = 4096
FILE_CHUNK = 64  # image files per chunk: decoding dominates, and failures stay cheap to redo
# Below this many images, starting worker processes (each imports torch) costs more than it saves.
MIN_POOL_IMAGES = 256

# Seconds between two calls of an import's progress callback (a web page polls it, not a bar).
PROGRESS_SECONDS = 0.5

Failure = tuple[int, str]  # (image index, reason)


@dataclass(frozen=True)
class Chunk:
    """Work for one process: images [start, stop) into the output file."""

    start: int
    stop: int
    out_path: str
    spec: dict
    pixels_path: str | None = None  # an .npy of the whole source, memory-mapped by the worker
    files: tuple[str, ...] = ()  # this chunk's image files, when the source is files


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def fill_range(
    out: np.ndarray,
    start: int,
    stop: int,
    *,
    spec: InputSpec,
    pixels: np.ndarray | None = None,
    files: tuple[str, ...] | list[str] = (),
) -> list[Failure]:
    """Transform images [start, stop) into ``out[start:stop]``; report files that fail to decode."""
    if pixels is not None:
        out[start:stop] = transform_pixels(pixels[start:stop], spec)
        return []
    failures: list[Failure] = []
    for index, path in enumerate(files, start=start):
        try:
            out[index] = transform_file(Path(path), spec)
        except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... on bad files
            failures.append((index, f"cannot decode image: {type(exc).__name__}: {exc}"))
    return failures


def run_chunk(chunk: Chunk) -> tuple[int, list[Failure]]:
    """Worker entry point: returns how many images it handled and its failures."""
    out = np.load(chunk.out_path, mmap_mode="r+")
    pixels = np.load(chunk.pixels_path, mmap_mode="r") if chunk.pixels_path else None
    failures = fill_range(
        out,
        chunk.start,
        chunk.stop,
        spec=InputSpec.from_dict(chunk.spec),
        pixels=pixels,
        files=chunk.files,
    )
    out.flush()
    return chunk.stop - chunk.start, failures


def init_worker() -> None:
    # One thread per process (the pool supplies the parallelism), and Ctrl-C is the parent's
    # to handle: it cancels the pool and removes the half-written set.
    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def chunk_size(source: Source, spec: InputSpec, workers: int) -> int:
    if source.pixels is None:
        size = FILE_CHUNK
    else:
        per_image = max(
            int(np.prod(source.pixels.shape[1:])), spec.channels * spec.height * spec.width
        )
        size = max(1, min(MAX_CHUNK, CHUNK_BYTES // per_image))
    # Enough chunks that every worker stays busy to the end.
    return max(1, min(size, -(-source.n // (4 * workers))))


def pool_context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one (a clean, fork-safe parent with torch already imported)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def run_pool(chunks: list[Chunk], workers: int) -> Generator[tuple[int, list[Failure]], None, None]:
    """Results as chunks finish; on any exception (Ctrl-C included) pending chunks are cancelled."""
    pool = ProcessPoolExecutor(workers, mp_context=pool_context(), initializer=init_worker)
    try:
        pending = {pool.submit(run_chunk, chunk) for chunk in chunks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def use_pool(source: Source, spec: InputSpec, workers: int, n_chunks: int) -> bool:
    """Worker processes pay for themselves only on real work: decoding or resizing many images."""
    if workers == 1 or n_chunks == 1 or source.n < MIN_POOL_IMAGES:
        return False
    return source.pixels is None or needs_resize(spec, *source.pixels.shape[2:])


def results_in_process(
    source: Source, spec: InputSpec, out: np.ndarray, bounds: list[tuple[int, int]]
) -> Generator[tuple[int, list[Failure]], None, None]:
    for start, stop in bounds:
        files = [str(p) for p in source.files[start:stop]] if source.files else []
        failures = fill_range(out, start, stop, spec=spec, pixels=source.pixels, files=files)
        yield stop - start, failures


def results_from_pool(
    source: Source,
    spec: InputSpec,
    out_path: Path,
    bounds: list[tuple[int, int]],
    *,
    work_dir: Path,
    workers: int,
) -> Generator[tuple[int, list[Failure]], None, None]:
    pixels_path = None
    if source.pixels is not None:  # workers memory-map one copy instead of each receiving it
        pixels_path = str(work_dir / "source-pixels.npy")
        np.save(pixels_path, np.ascontiguousarray(source.pixels))
    files = [str(p) for p in source.files] if source.files else []
    chunks = [
        Chunk(
            start=start,
            stop=stop,
            out_path=str(out_path),
            spec=spec.to_dict(),
            pixels_path=pixels_path,
            files=tuple(files[start:stop]),
        )
        for start, stop in bounds
    ]
    return run_pool(chunks, workers)


class ProgressReport:
    """Calls ``callback(done, total)`` at the start, at most every PROGRESS_SECONDS, and at the end.

    ``done`` only grows from one call to the next; the last call has ``done == total``.
    """

    def __init__(self, callback: Callable[[int, int], None] | None, *, total: int) -> None:
        self.callback, self.total = callback, total
        self.done = self.reported = 0
        self.last = time.monotonic()
        if callback is not None:
            callback(0, total)

    def advance(self, count: int) -> None:
        self.done += count
        if self.callback is None or self.done <= self.reported:
            return
        now = time.monotonic()
        if self.done == self.total or now - self.last >= PROGRESS_SECONDS:
            self.last, self.reported = now, self.done
            self.callback(self.done, self.total)


def compile_images(
    source: Source,
    spec: InputSpec,
    out_path: Path,
    *,
    work_dir: Path,
    workers: int | None = None,
    progress: bool = True,
    on_failure: Callable[[int, str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Failure]:
    """Write every image of ``source`` at ``spec`` into a new .npy at ``out_path``.

    Rows of images that fail to decode are left zero and returned as (index, reason);
    ``on_failure`` is called for each as it is found (it may raise to stop the compile).
    ``on_progress(done, total)`` is called a few times a second at most, and once at the end
    with ``done == total`` (it too may raise to stop).
    """
    workers = workers or default_workers()
    if workers < 1:
        raise DatasetError(f"workers must be at least 1, got {workers}")
    n = source.n
    shape = (n, spec.channels, spec.height, spec.width)
    out = np.lib.format.open_memmap(out_path, mode="w+", dtype=np.uint8, shape=shape)
    size = chunk_size(source, spec, workers)
    bounds = [(start, min(start + size, n)) for start in range(0, n, size)]
    if use_pool(source, spec, workers, len(bounds)):
        out.flush()
        results = results_from_pool(
            source, spec, out_path, bounds, work_dir=work_dir, workers=workers
        )
    else:
        results = results_in_process(source, spec, out, bounds)
    failures: list[Failure] = []
    report = ProgressReport(on_progress, total=n)
    with tqdm(total=n, unit="img", desc="compiling", disable=not progress, leave=False) as bar:
        try:
            for count, found in results:
                for index, reason in found:
                    if on_failure is not None:
                        on_failure(index, reason)
                failures += found
                bar.update(count)
                report.advance(count)
        finally:
            results.close()  # stops the pool now, not whenever the generator is collected
    out.flush()
    del out
    return sorted(failures)


def drop_rows(path: Path, keep: np.ndarray) -> None:
    """Rewrite the .npy at ``path`` without the rows where ``keep`` is False, chunk by chunk."""
    src = np.load(path, mmap_mode="r")
    kept = np.flatnonzero(keep)
    tmp = path.with_name(path.name + ".compact")
    dst = np.lib.format.open_memmap(
        tmp, mode="w+", dtype=src.dtype, shape=(len(kept), *src.shape[1:])
    )
    step = MAX_CHUNK
    for begin in range(0, len(kept), step):
        dst[begin : begin + step] = src[kept[begin : begin + step]]
    dst.flush()
    del dst, src
    os.replace(tmp, path)
