"""One scoring run under torch.profiler: where its time goes, and whether copies hide under compute.

The GPU target (scoring at 90-95% of a bare forward pass) depends on the host-to-device copies
of the set running while the model computes. This profiles one run, writes a Chrome trace
(chrome://tracing or ui.perfetto.dev) and sums it up from the device's own timeline: the run's
wall time, the time some kernel was running, the time some host-to-device copy was running,
and how much of the copy time overlapped a kernel. With the staging working, the copy time is
almost all overlapped and the kernel-busy time is close to the wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

Interval = tuple[float, float]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals merged into disjoint, sorted ones."""
    merged: list[list[float]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def length(intervals: Iterable[Interval]) -> float:
    return sum(end - start for start, end in union(intervals))


def overlap(a: Iterable[Interval], b: Iterable[Interval]) -> float:
    """Length of the time covered by both ``a`` and ``b``."""
    left, right = union(a), union(b)
    i = j = 0
    total = 0.0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        total += max(0.0, end - start)
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return total


def kind(name: str) -> str | None:
    """'h2d' for a host-to-device copy, 'other_copy' for other copies and sets, else 'kernel'."""
    lowered = name.lower()
    if lowered.startswith("memcpy"):
        return "h2d" if "htod" in lowered else "other_copy"
    if lowered.startswith("memset"):
        return "other_copy"
    return "kernel"


def device_intervals(events: Iterable) -> dict[str, list[Interval]]:
    """Device-side activity of a profile, in microseconds, by ``kind`` (CPU events left out)."""
    found: dict[str, list[Interval]] = {"kernel": [], "h2d": [], "other_copy": []}
    for event in events:
        device_type = getattr(event, "device_type", None)
        if device_type is None or device_type == torch.autograd.DeviceType.CPU:
            continue
        span = getattr(event, "time_range", None)
        if span is None:
            continue
        found[kind(getattr(event, "name", ""))].append((float(span.start), float(span.end)))
    return found


def summarise(*, wall_s: float, intervals: dict[str, list[Interval]]) -> dict:
    kernel, h2d = intervals["kernel"], intervals["h2d"]
    h2d_s = length(h2d) / 1e6
    hidden_s = overlap(kernel, h2d) / 1e6
    return {
        "wall_s": wall_s,
        "kernel_busy_s": length(kernel) / 1e6,
        "h2d_busy_s": h2d_s,
        "h2d_hidden_under_kernels_s": hidden_s,
        "h2d_hidden_fraction": hidden_s / h2d_s if h2d_s > 0 else None,
        "kernel_busy_over_wall": length(kernel) / 1e6 / wall_s if wall_s > 0 else None,
        "device_events": {name: len(spans) for name, spans in intervals.items()},
    }


def profile_run(fn: Callable[[], object], *, cuda: bool, trace: Path) -> dict:
    """Run ``fn`` once under the profiler; write the trace; return ``summarise``'s figures."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        started = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        wall_s = time.perf_counter() - started
    trace.parent.mkdir(parents=True, exist_ok=True)
    prof.export_chrome_trace(str(trace))
    try:
        intervals = device_intervals(prof.events())
    except Exception as exc:  # a profiler change must not cost the benchmark its figures
        return {"wall_s": wall_s, "trace": str(trace), "error": f"{type(exc).__name__}: {exc}"}
    return {**summarise(wall_s=wall_s, intervals=intervals), "trace": str(trace)}
