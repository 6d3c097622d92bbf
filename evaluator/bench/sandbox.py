"""`python -m evaluator.bench.sandbox`: a run's fixed cost, cold against warm, in one run.

Each run is a real sandboxed scoring (``runner.run_model``: bubblewrap, the control group, the
checked logits) of a tiny ONNX model (flatten + linear) on 64 random 8x8 images, so nearly all
of its time is fixed cost. The fixed cost is the parent's clock from the request to the checked
logits, less the child's own scoring loop: the sandbox and Python starting, imports, loading
the model, exiting, reading the outputs.

- cold: every run starts its sandbox and Python from nothing (no warm pool);
- warm, ready: a child of ``evaluator.sandbox.pool`` started ahead has finished warming up when
  the run is requested (a worker whose previous job took longer than a warm-up);
- warm, back to back: each run is requested the moment the last one ended, so it waits for
  what is left of its child's warm-up (a worker draining a queue of tiny models).

It prints the median, fastest and slowest of each, the ratios, and the load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from evaluator.bench.tiny import tiny_onnx
from evaluator.check.run import sample_set
from evaluator.formats.base import ModelFormat
from evaluator.hardware import cpu_name
from evaluator.sandbox import bwrap, pool
from evaluator.sandbox.runner import ChildOutput, run_model
from evaluator.spec import InputSpec

SIZE, CLASSES = 8, 4


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluator.bench.sandbox", description=__doc__)
    p.add_argument("--runs", type=int, default=5, help="timed runs of each kind")
    p.add_argument("--images", type=int, default=64)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    if bwrap.probe() is None:
        raise SystemExit("bubblewrap cannot run here: warm sandboxes need it")
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"load average before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as work:
        root = Path(work)
        model = root / "tiny.onnx"
        model.write_bytes(tiny_onnx(size=SIZE, classes=CLASSES))
        images = sample_set(
            root / "set",
            samples=np.random.default_rng(0).integers(
                0, 256, (args.images, 1, SIZE, SIZE), dtype=np.uint8
            ),
            spec=InputSpec(channels=1, height=SIZE, width=SIZE),
            class_names=[f"c{i}" for i in range(CLASSES)],
        )

        def once() -> tuple[float, float, ChildOutput]:
            start = time.monotonic()
            ran = run_model(
                model_path=model,
                fmt=ModelFormat.ONNX,
                arch=None,
                images_dir=images,
                num_classes=CLASSES,
                device=args.device,
                require_sandbox=True,
            )
            total = time.monotonic() - start
            return total, total - float(ran.info["seconds"]), ran

        results = {
            "cold": _runs(once, n=args.runs, before=None),
        }
        warm_pool = pool.configure(size=1)
        assert warm_pool is not None
        try:
            once()  # the first child is started on demand; from here one waits ahead
            results["warm, ready"] = _runs(once, n=args.runs, before=_ready(warm_pool))
            results["warm, back to back"] = _runs(once, n=args.runs, before=None)
            served = dict(warm_pool.served)
        finally:
            pool.configure(size=0)
    _print(results)
    print(f"warm runs served: {served}")
    print(f"load average after: {_load()}")
    return 0


def _runs(
    once: Callable[[], tuple[float, float, ChildOutput]], *, n: int, before: Callable | None
) -> list[tuple[float, float]]:
    out = []
    reference = None
    for _ in range(n):
        if before is not None:
            before()
        total, fixed, ran = once()
        if reference is None:
            reference = ran.logits
        assert np.array_equal(ran.logits, reference), "every run must give the same logits"
        out.append((total, fixed))
    return out


def _ready(warm_pool: pool.WarmPool) -> Callable[[], None]:
    def wait() -> None:
        for child in warm_pool.children:
            child.ready(wait_s=120)

    return wait


def _print(results: dict[str, list[tuple[float, float]]]) -> None:
    cold = statistics.median(fixed for _, fixed in results["cold"])
    print(
        "| runs | n | request to result s (median) | fixed cost s: median | fastest | slowest "
        "| cold / this |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, runs in results.items():
        fixed = [f for _, f in runs]
        median = statistics.median(fixed)
        print(
            f"| {name} | {len(runs)} | {statistics.median(t for t, _ in runs):.3f} | "
            f"{median:.3f} | {min(fixed):.3f} | {max(fixed):.3f} | {cold / median:.1f}x |"
        )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
