"""Thread pools that spin or sleep: LeNet-5's forward pass in torch and in onnxruntime, each
way, each in a fresh process (OpenMP reads its wait policy once, at start-up).

The sandbox runs models with every core's thread and idle threads sleeping
(``OMP_WAIT_POLICY=PASSIVE``; onnxruntime's ``allow_spinning`` off). This prints what that
choice costs or saves on this machine, now, as a ratio in one run:

    python -m evaluator.bench.threads --repeat 3

The model is the shipped LeNet-5 (``baselines/weights``) on 10,240 random 28 x 28 images in
batches of 256, the demo's scoring batch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LENET = ROOT / "baselines" / "weights" / "baseline-lenet5.safetensors"
BATCHES, BATCH = 40, 256

# (label, engine, threads, environment); each runs in its own process.
CASES = (
    ("torch, 1 thread", "torch", 1, {}),
    ("torch, all cores, threads spin (default)", "torch", 0, {}),
    ("torch, all cores, threads sleep (the sandbox's)", "torch", 0, {"OMP_WAIT_POLICY": "PASSIVE"}),
    ("onnxruntime, all cores, threads spin (default)", "onnx", 0, {"SPIN": "1"}),
    ("onnxruntime, all cores, threads sleep (the sandbox's)", "onnx", 0, {"SPIN": "0"}),
)


def forward_seconds(*, engine: str, threads: int, onnx_path: Path) -> float:
    """One timed pass over the batches, after one untimed batch (in this process)."""
    import time

    import numpy as np

    cores = threads or len(os.sched_getaffinity(0))
    x = np.random.default_rng(0).standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    if engine == "torch":
        import torch

        torch.set_num_threads(cores)
        net = _lenet()
        tensor = torch.from_numpy(x)
        with torch.inference_mode():
            net(tensor)
            started = time.perf_counter()
            for _ in range(BATCHES):
                net(tensor)
            return time.perf_counter() - started
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = cores
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", os.environ["SPIN"])
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    session.run(None, {name: x})
    started = time.perf_counter()
    for _ in range(BATCHES):
        session.run(None, {name: x})
    return time.perf_counter() - started


def _lenet():
    from evaluator.formats.base import ModelFormat
    from evaluator.formats.loaders import load_model
    from evaluator.spec import InputSpec

    spec = InputSpec(channels=1, height=28, width=28, mean=(0.286,), std=(0.353,))
    loaded = load_model(
        path=LENET,
        fmt=ModelFormat.SAFETENSORS,
        arch="baseline-lenet5",
        spec=spec,
        num_classes=10,
        device="cpu",
    )
    return loaded.module.float().eval()


def export_onnx(path: Path) -> Path:
    import torch

    torch.onnx.export(
        _lenet(),
        torch.zeros(2, 1, 28, 28),
        str(path),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        dynamo=False,
    )
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per case")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one measurement, in a process of its own
        engine, threads, onnx_path = json.loads(args.child)
        seconds = forward_seconds(engine=engine, threads=threads, onnx_path=Path(onnx_path))
        print(json.dumps({"seconds": seconds}))
        return 0
    with tempfile.TemporaryDirectory() as work:
        onnx_path = export_onnx(Path(work) / "lenet.onnx")
        print(
            f"LeNet-5, {BATCHES * BATCH:,} images in batches of {BATCH}; median of "
            f"{args.repeat} fresh processes; load before {_load()}"
        )
        print("| threads | seconds | images/s | vs. 1 torch thread |")
        print("|---|---|---|---|")
        base = None
        for label, engine, threads, env in CASES:
            runs = [_child(engine, threads, onnx_path, env) for _ in range(args.repeat)]
            seconds = statistics.median(runs)
            base = base or seconds
            print(
                f"| {label} | {seconds:.3f} | {BATCHES * BATCH / seconds:,.0f} | "
                f"{base / seconds:.2f}x |"
            )
        print(f"load after {_load()}; {len(os.sched_getaffinity(0))} cores")
    return 0


def _child(engine: str, threads: int, onnx_path: Path, env: dict[str, str]) -> float:
    argv = [sys.executable, "-m", "evaluator.bench.threads", "--child"]
    argv.append(json.dumps([engine, threads, str(onnx_path)]))
    environment = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"} | env
    out = subprocess.run(
        argv, env=environment, capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
