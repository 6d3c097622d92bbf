"""import_dataset's on_progress: (done, total) from 0 up to total, a few calls a second at most."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from evaluator.datasets import compile as compile_module
from evaluator.datasets import import_dataset
from evaluator.datasets.compile import MIN_POOL_IMAGES, PROGRESS_SECONDS, ProgressReport
from evaluator.spec import InputSpec
from tests.evaluator.test_datasets_sources import random_images, write_imagefolder

GREY28 = InputSpec(channels=1, height=28, width=28)


def check_calls(calls: list[tuple[int, int]], *, n: int, seconds: float) -> None:
    """Starts at 0, ends at n exactly once, only grows, and stays within the rate."""
    assert calls[0] == (0, n) and calls[-1] == (n, n)
    assert {total for _, total in calls} == {n}
    done = [d for d, _ in calls]
    assert done == sorted(set(done))
    assert len(calls) <= 3 + seconds / PROGRESS_SECONDS


def test_npz_import_reports_progress(tmp_path: Path) -> None:
    np.savez(tmp_path / "src.npz", images=random_images(500, 32, 32), labels=np.arange(500) % 5)
    calls: list[tuple[int, int]] = []
    started = time.monotonic()
    report = import_dataset(
        fmt="npz",
        source=tmp_path / "src.npz",
        out=tmp_path / "set",
        spec=GREY28,
        progress=False,
        workers=1,
        on_progress=lambda done, total: calls.append((done, total)),
    )
    check_calls(calls, n=report.n_images, seconds=time.monotonic() - started)


@pytest.mark.slow
def test_worker_pool_import_reports_every_image(tmp_path: Path) -> None:
    n = MIN_POOL_IMAGES + 44  # enough image files for the worker processes to start
    images = random_images(n, 12, 12)
    write_imagefolder(tmp_path / "tree", {"a": list(images[: n // 2]), "b": list(images[n // 2 :])})
    calls: list[tuple[int, int]] = []
    started = time.monotonic()
    report = import_dataset(
        fmt="imagefolder",
        source=tmp_path / "tree",
        out=tmp_path / "set",
        spec=GREY28,
        progress=False,
        workers=2,
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert report.n_images == n
    check_calls(calls, n=n, seconds=time.monotonic() - started)


def test_progress_is_throttled_but_never_misses_the_end() -> None:
    calls: list[tuple[int, int]] = []
    report = ProgressReport(lambda done, total: calls.append((done, total)), total=1000)
    started = time.monotonic()
    for _ in range(999):
        report.advance(1)
    quick = time.monotonic() - started
    time.sleep(PROGRESS_SECONDS + 0.1)
    report.advance(0)  # the interval has passed: the count so far is reported...
    report.advance(0)  # ...once
    report.advance(1)
    assert calls[0] == (0, 1000) and calls[-1] == (1000, 1000)
    assert len(calls) <= 4 + quick / PROGRESS_SECONDS
    assert (999, 1000) in calls  # reported once the interval had passed
    done = [d for d, _ in calls]
    assert done == sorted(set(done))


def test_a_raising_callback_stops_the_import(tmp_path: Path) -> None:
    np.savez(tmp_path / "src.npz", images=random_images(40, 28, 28), labels=np.arange(40) % 4)

    def cancel(done: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt  # what a cancelled task feels like

    with pytest.raises(KeyboardInterrupt):
        import_dataset(
            fmt="npz",
            source=tmp_path / "src.npz",
            out=tmp_path / "set",
            spec=GREY28,
            progress=False,
            workers=1,
            on_progress=cancel,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.npz"]


def test_a_raising_callback_stops_the_decoding_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Image files decode on threads: a cancel leaves no thread running and nothing written."""
    monkeypatch.setattr(compile_module, "PROGRESS_SECONDS", 0.0)  # report every chunk
    images = random_images(64, 30, 40, 3)
    write_imagefolder(tmp_path / "tree", {"a": list(images[:32]), "b": list(images[32:])}, ".jpg")
    calls: list[int] = []

    def cancel(done: int, total: int) -> None:
        calls.append(done)
        if done:
            raise KeyboardInterrupt

    # Another test in this process may have left torch at one thread: start from two, so that
    # an importer that left its own single thread behind would show.
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.raises(KeyboardInterrupt):
            import_dataset(
                fmt="imagefolder",
                source=tmp_path / "tree",
                out=tmp_path / "set",
                spec=GREY28,
                progress=False,
                workers=2,
                on_progress=cancel,
            )
        threads_after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert 0 < calls[-1] < 64  # stopped part way
    assert not [t for t in threading.enumerate() if t.name.startswith("import")]
    assert threads_after == 2  # the importer gave back torch's threads
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree"]
