"""The profile summary's interval arithmetic, checked against a brute-force count on a grid."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from evaluator.bench.profile import (
    device_intervals,
    kind,
    length,
    overlap,
    profile_run,
    summarise,
    union,
)


def _covered(intervals, grid: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(grid), dtype=bool)
    for start, end in intervals:
        mask |= (grid >= start) & (grid < end)
    return mask


@pytest.mark.parametrize("seed", range(5))
def test_union_length_and_overlap_match_a_grid_count(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = [tuple(sorted(rng.integers(0, 200, 2))) for _ in range(15)]
    b = [tuple(sorted(rng.integers(0, 200, 2))) for _ in range(15)]
    grid = np.arange(0, 200, 1.0)  # integer endpoints: each unit cell is in or out
    in_a, in_b = _covered(a, grid), _covered(b, grid)
    assert length(a) == in_a.sum()
    assert overlap(a, b) == (in_a & in_b).sum()
    merged = union(a)
    assert all(prev[1] < nxt[0] for prev, nxt in itertools.pairwise(merged))


def test_copies_kernels_and_host_events_are_told_apart() -> None:
    assert kind("Memcpy HtoD (Pinned -> Device)") == "h2d"
    assert kind("Memcpy DtoH (Device -> Pinned)") == "other_copy"
    assert kind("Memset (Device)") == "other_copy"
    assert kind("sm90_xmma_gemm_bf16bf16_bf16f32") == "kernel"
    span = SimpleNamespace
    cuda, cpu = torch.autograd.DeviceType.CUDA, torch.autograd.DeviceType.CPU
    events = [
        span(
            name="Memcpy HtoD (Pinned -> Device)",
            device_type=cuda,
            time_range=span(start=0, end=10),
        ),
        span(name="conv_kernel", device_type=cuda, time_range=span(start=5, end=30)),
        span(name="aten::conv2d", device_type=cpu, time_range=span(start=0, end=100)),
    ]
    found = device_intervals(events)
    assert found == {"kernel": [(5.0, 30.0)], "h2d": [(0.0, 10.0)], "other_copy": []}
    summary = summarise(wall_s=40e-6, intervals=found)
    assert summary["h2d_hidden_fraction"] == pytest.approx(0.5)
    assert summary["kernel_busy_over_wall"] == pytest.approx(25 / 40)


def test_a_cpu_run_writes_a_trace_and_reports_no_device_time(tmp_path: Path) -> None:
    net = torch.nn.Conv2d(1, 4, 3)
    trace = tmp_path / "trace.json"
    with torch.inference_mode():
        summary = profile_run(lambda: net(torch.randn(8, 1, 28, 28)), cuda=False, trace=trace)
    assert summary["wall_s"] > 0 and summary["kernel_busy_s"] == 0
    assert summary["h2d_hidden_fraction"] is None
    names = {e.get("name") for e in json.loads(trace.read_text())["traceEvents"]}
    assert "aten::conv2d" in names
