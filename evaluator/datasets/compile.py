"""Compile a source into the uint8 (N, C, H, W) images file, on all cores.

Sources already at the declared size take a vectorised path in this process (Fashion-MNIST's
10k test images: well under a second). Array sources needing a resize are cut into chunks that
worker processes transform and write straight into the shared output file
(``np.lib.format.open_memmap``), so nothing large travels between processes. Image files are
decoded by threads of this process: the JPEG decoder, PIL's decoders and the resize all
release the GIL, and threads start at once where a process pool costs seconds of imports.
Each thread resizes its decoded images a few at a time, in batches of one size.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from evaluator.datasets.base import Source
from evaluator.datasets.decode import Decoded, decode_file
from evaluator.datasets.transform import needs_resize, to_spec, transform_pixels
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec

# Bytes of pixels one chunk should hold (source or output, whichever is larger).
CHUNK_BYTES = 16 * 2**20
MAX_CHUNK = 4096
FILE_CHUNK = 64  # image files per chunk: decoding dominates, and failures stay cheap to redo
# Below this many images, starting worker processes (each imports torch) costs more than it saves.
MIN_POOL_IMAGES = 256
# Decoded images of one size resized in one call: about 15% faster than one by one with
# 500x375 JPEGs (channels-last uint8 batches), beyond 8 no faster.
RESIZE_BATCH = 8
# Decoded pixels a thread may hold while it gathers batches, before it resizes what it has.
BATCH_BYTES = 32 * 2**20

# Seconds between two calls of an import's progress callback (a web page polls it, not a bar).
PROGRESS_SECONDS = 0.5

Failure = tuple[int, str]  # (image index, reason)


@dataclass
class Filled:
    """What one chunk did: images handled, files that failed, JPEGs draft-decoded."""

    count: int
    failures: list[Failure] = field(default_factory=list)
    drafted: int = 0


@dataclass
class Compiled:
    failures: list[Failure]  # sorted by index
    drafted: int  # JPEGs decoded at a reduced scale (``decode.draft_scale``)


@dataclass(frozen=True)
class Chunk:
    """Work for one process: images [start, stop) of an array source into the output file."""

    start: int
    stop: int
    out_path: str
    spec: dict
    pixels_path: str  # an .npy of the whole source, memory-mapped by the worker


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def write_batch(out: np.ndarray, group: list[tuple[int, Decoded]], spec: InputSpec) -> None:
    """Resize decoded images of one size and full size in one call, into their rows of ``out``."""
    first = group[0][1]
    if len(group) == 1:
        batch = first.pixels[None]
    else:  # channels-last, as the decoders give them: the fast uint8 resize path
        channels, height, width = first.pixels.shape
        batch = torch.empty((len(group), height, width, channels), dtype=torch.uint8)
        for row, (_, decoded) in enumerate(group):
            batch[row] = decoded.pixels.permute(1, 2, 0)
        batch = batch.permute(0, 3, 1, 2)
    result = to_spec(batch, spec, source_size=first.size, scale=first.scale).numpy()
    for row, (index, _) in enumerate(group):
        out[index] = result[row]


def fill_files(
    out: np.ndarray, start: int, files: tuple[str, ...] | list[str], *, spec: InputSpec, draft: bool
) -> Filled:
    """Decode ``files`` into ``out[start:]``, resizing images of one size together."""
    filled = Filled(count=len(files))
    groups: dict[tuple, list[tuple[int, Decoded]]] = {}
    held = 0
    for index, path in enumerate(files, start=start):
        try:
            decoded = decode_file(Path(path), spec=spec, draft=draft)
        except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... on bad files
            filled.failures.append((index, f"cannot decode image: {type(exc).__name__}: {exc}"))
            continue
        filled.drafted += decoded.scale > 1
        key = (tuple(decoded.pixels.shape), decoded.size, decoded.scale)
        group = groups.setdefault(key, [])
        group.append((index, decoded))
        held += decoded.pixels.numel()
        if len(group) == RESIZE_BATCH:
            write_batch(out, groups.pop(key), spec)
        if held > BATCH_BYTES:
            for waiting in groups.values():
                write_batch(out, waiting, spec)
            groups, held = {}, 0
    for waiting in groups.values():
        write_batch(out, waiting, spec)
    return filled


def fill_range(
    out: np.ndarray,
    start: int,
    stop: int,
    *,
    spec: InputSpec,
    pixels: np.ndarray | None = None,
    files: tuple[str, ...] | list[str] = (),
    draft: bool = True,
) -> list[Failure]:
    """Transform images [start, stop) into ``out[start:stop]``; report files that fail to decode."""
    if pixels is not None:
        out[start:stop] = transform_pixels(pixels[start:stop], spec)
        return []
    return fill_files(out, start, files, spec=spec, draft=draft).failures


def run_chunk(chunk: Chunk) -> Filled:
    """Worker entry point: transforms its images and returns how many it handled."""
    out = np.load(chunk.out_path, mmap_mode="r+")
    pixels = np.load(chunk.pixels_path, mmap_mode="r")
    out[chunk.start : chunk.stop] = transform_pixels(
        pixels[chunk.start : chunk.stop], InputSpec.from_dict(chunk.spec)
    )
    out.flush()
    return Filled(count=chunk.stop - chunk.start)


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


def run_pool(chunks: list[Chunk], workers: int) -> Generator[Filled, None, None]:
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


@contextmanager
def one_intra_op_thread() -> Iterator[None]:
    """While decoding threads run, each resize uses one core: they are the parallelism."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_threads(
    source: Source,
    spec: InputSpec,
    out: np.ndarray,
    bounds: list[tuple[int, int]],
    *,
    workers: int,
    draft: bool,
) -> Generator[Filled, None, None]:
    """Chunks of files on ``workers`` threads; results in order, so the first bad file is the
    first reported. On any exception (Ctrl-C included) chunks not started are cancelled."""
    files = [str(p) for p in source.files or ()]
    with one_intra_op_thread():
        pool = ThreadPoolExecutor(workers, thread_name_prefix="import")
        try:
            futures = [
                pool.submit(fill_files, out, start, files[start:stop], spec=spec, draft=draft)
                for start, stop in bounds
            ]
            for future in futures:
                yield future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def use_pool(source: Source, spec: InputSpec, workers: int, n_chunks: int) -> bool:
    """Worker processes pay for themselves only on real work: resizing many array images."""
    if workers == 1 or n_chunks == 1 or source.n < MIN_POOL_IMAGES or source.pixels is None:
        return False
    return needs_resize(spec, *source.pixels.shape[2:])


def results_in_process(
    source: Source, spec: InputSpec, out: np.ndarray, bounds: list[tuple[int, int]], *, draft: bool
) -> Generator[Filled, None, None]:
    files = [str(p) for p in source.files or ()]
    for start, stop in bounds:
        if source.pixels is not None:
            out[start:stop] = transform_pixels(source.pixels[start:stop], spec)
            yield Filled(count=stop - start)
        else:
            yield fill_files(out, start, files[start:stop], spec=spec, draft=draft)


def results_from_pool(
    source: Source,
    spec: InputSpec,
    out_path: Path,
    bounds: list[tuple[int, int]],
    *,
    work_dir: Path,
    workers: int,
) -> Generator[Filled, None, None]:
    assert source.pixels is not None
    # Workers memory-map one copy instead of each receiving it.
    pixels_path = str(work_dir / "source-pixels.npy")
    np.save(pixels_path, np.ascontiguousarray(source.pixels))
    chunks = [
        Chunk(
            start=start,
            stop=stop,
            out_path=str(out_path),
            spec=spec.to_dict(),
            pixels_path=pixels_path,
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
    draft: bool = True,
    progress: bool = True,
    on_failure: Callable[[int, str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Compiled:
    """Write every image of ``source`` at ``spec`` into a new .npy at ``out_path``.

    Rows of images that fail to decode are left zero and returned as (index, reason);
    ``on_failure`` is called for each as it is found (it may raise to stop the compile).
    ``on_progress(done, total)`` is called a few times a second at most, and once at the end
    with ``done == total`` (it too may raise to stop). ``draft`` lets large JPEGs be decoded
    at a reduced scale (``decode.draft_scale``); the result counts those that were.
    """
    workers = workers or default_workers()
    if workers < 1:
        raise DatasetError(f"workers must be at least 1, got {workers}")
    n = source.n
    shape = (n, spec.channels, spec.height, spec.width)
    out = np.lib.format.open_memmap(out_path, mode="w+", dtype=np.uint8, shape=shape)
    size = chunk_size(source, spec, workers)
    bounds = [(start, min(start + size, n)) for start in range(0, n, size)]
    results: Generator[Filled, None, None]
    if source.files is not None and workers > 1 and len(bounds) > 1:
        results = run_threads(source, spec, out, bounds, workers=workers, draft=draft)
    elif use_pool(source, spec, workers, len(bounds)):
        out.flush()
        results = results_from_pool(
            source, spec, out_path, bounds, work_dir=work_dir, workers=workers
        )
    else:
        results = results_in_process(source, spec, out, bounds, draft=draft)
    compiled = Compiled(failures=[], drafted=0)
    report = ProgressReport(on_progress, total=n)
    with tqdm(total=n, unit="img", desc="compiling", disable=not progress, leave=False) as bar:
        try:
            for filled in results:
                for index, reason in filled.failures:
                    if on_failure is not None:
                        on_failure(index, reason)
                compiled.failures += filled.failures
                compiled.drafted += filled.drafted
                bar.update(filled.count)
                report.advance(filled.count)
        finally:
            results.close()  # stops the pool now, not whenever the generator is collected
    out.flush()
    del out
    compiled.failures.sort()
    return compiled


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
