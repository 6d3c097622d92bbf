"""`python -m evaluator.bench.robustness`: what the robustness track costs, clean vs clean+robust.

On one machine, in one run:
- compiling: the clean set (once per hidden set) and its 13 transformed copies (also once);
- in process: ``run_inference`` on the clean set and on each copy (the loop the child runs);
- end to end: ``score()`` and ``score_robust()`` on the same model file, each a sandboxed child
  that starts Python, loads the model once and returns logits, plus the parent's metrics.

Data: ``--data fashion-mnist`` (Debian's dataset-fashion-mnist, 10,000 test images) or
``--data digits`` (scikit-learn's 1,797 handwritten digits, 8x8: always available). The model is
the benchmark's LeNet-5 (random weights: the cost does not depend on them), exported to ONNX or
TorchScript, or ``--model-file`` for a trained one (safetensors needs ``--arch``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from evaluator import layout, robustness
from evaluator.bench.data import FASHION_MNIST, LeNet5
from evaluator.datasets import import_dataset, open_dataset
from evaluator.formats.base import LoadedModel, ModelFormat
from evaluator.inference import run_inference
from evaluator.robustness.compile import compile_robust_sets, open_robust_images
from evaluator.robustness.scoring import score_robust
from evaluator.scoring import score
from evaluator.spec import InputSpec


def prepare_set(work: Path, data: str) -> tuple[Path, float | None]:
    """The compiled set under ``work`` (imported on first use); returns it and the import time."""
    compiled = work / f"{data}-compiled"
    if compiled.exists():
        return compiled, None
    if data == "fashion-mnist":
        if not FASHION_MNIST.is_dir():
            raise SystemExit(f"{FASHION_MNIST} not found: apt-get install dataset-fashion-mnist")
        spec = InputSpec(channels=1, height=28, width=28, mean=(0.2860,), std=(0.3530,))
        fmt, source = "idx", FASHION_MNIST
    else:
        from sklearn.datasets import load_digits

        digits = load_digits()
        source = work / "digits-source"
        source.mkdir(parents=True, exist_ok=True)
        images = (digits.images * (255 / 16)).round().astype(np.uint8)
        np.savez(source / "test.npz", images=images, labels=digits.target.astype(np.int64))
        spec = InputSpec(channels=1, height=28, width=28, mean=(0.5,), std=(0.5,))
        fmt = "npz"
    report = import_dataset(fmt=fmt, source=source, out=compiled, spec=spec, progress=False)
    return compiled, report.seconds


def export_lenet(path: Path, *, fmt: str, num_classes: int) -> Path:
    torch.manual_seed(0)
    module = LeNet5(num_classes).eval()
    example = torch.zeros(2, 1, 28, 28)
    if fmt == "torchscript":
        torch.jit.script(module).save(str(path))
    else:
        torch.onnx.export(
            module,
            (example,),
            str(path),
            dynamo=False,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )
    return path


def in_process(compiled: Path, *, repeat: int, batch_size: int) -> dict:
    """Median seconds of the inference loop on the clean set and on each copy."""
    dataset = open_dataset(compiled)
    torch.manual_seed(0)
    loaded = LoadedModel(
        kind="torch", format=ModelFormat.TORCHSCRIPT, module=LeNet5(dataset.num_classes).eval()
    )

    def seconds(images: np.ndarray) -> float:
        runs = [
            run_inference(
                model=loaded,
                images=images,
                spec=dataset.spec,
                num_classes=dataset.num_classes,
                device="cpu",
                batch_size=batch_size,
                precision="fp32",
            ).seconds
            for _ in range(repeat)
        ]
        return statistics.median(runs)

    images_dir = layout.images_dir(compiled)
    per_copy = {
        name: seconds(
            open_robust_images(images_dir=images_dir, name=name, shape=dataset.images.shape)
        )
        for name in robustness.NAMES
    }
    return {"clean_s": seconds(dataset.images), "per_transform_s": per_copy}


def end_to_end(compiled: Path, model: Path, *, arch: str | None, repeat: int) -> dict:
    """Median wall seconds of score() and score_robust() (sandboxed child, metrics included)."""

    def timed(fn) -> tuple[float, dict]:
        walls, result = [], {}
        for _ in range(repeat):
            start = time.perf_counter()
            result = fn(dataset_dir=compiled, model_path=model, arch=arch)
            walls.append(time.perf_counter() - start)
        return statistics.median(walls), result

    clean_s, clean = timed(score)
    robust_s, robust = timed(score_robust)
    return {
        "clean_wall_s": clean_s,
        "clean_child_wall_s": clean["wall_seconds"],
        "clean_inference_s": clean["inference_seconds"],
        "robust_wall_s": robust_s,
        "robust_child_wall_s": robust["wall_seconds"],
        "robust_inference_s": robust["robustness"]["timing"]["robust_seconds"],
        "sandbox": robust["sandbox"],
        "top1_error": robust["top1_error"],
        "robust_error": robust["robustness"]["summary"]["all"]["mean_top1_error"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluator.bench.robustness", description=__doc__)
    p.add_argument("--data", default="fashion-mnist", choices=["fashion-mnist", "digits"])
    p.add_argument("--format", default="onnx", choices=["onnx", "torchscript"])
    p.add_argument("--model-file", type=Path, help="a trained model instead of a random LeNet")
    p.add_argument("--arch", help="architecture of --model-file (safetensors)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs (median)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument(
        "--threads",
        type=int,
        help="torch threads of the in-process loop (default: torch's; on a busy shared box 1 "
        "is steadier); the sandboxed child picks its own",
    )
    p.add_argument("--workdir", type=Path, help="keep the compiled sets here")
    p.add_argument("--json", type=Path, help="also write the results to this file")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    tmp = tempfile.TemporaryDirectory(prefix="robust-bench-")
    work = args.workdir or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    compiled, import_s = prepare_set(work, args.data)
    started = time.perf_counter()
    compile_robust_sets(dataset_dir=compiled, overwrite=True)
    robust_compile_s = time.perf_counter() - started
    dataset = open_dataset(compiled)
    model = args.model_file or export_lenet(
        work / f"lenet.{'pt' if args.format == 'torchscript' else 'onnx'}",
        fmt=args.format,
        num_classes=dataset.num_classes,
    )
    results = {
        "data": args.data,
        "n_images": dataset.n,
        "model": str(args.model_file) if args.model_file else f"LeNet-5 (random), {args.format}",
        "torch_threads": torch.get_num_threads(),
        "import_s": import_s,
        "robust_compile_s": robust_compile_s,
        "in_process": in_process(compiled, repeat=args.repeat, batch_size=args.batch_size),
        "end_to_end": end_to_end(compiled, model, arch=args.arch, repeat=args.repeat),
    }
    print(json.dumps(results, indent=2))
    loop = results["in_process"]
    copies = sum(loop["per_transform_s"].values())
    e2e = results["end_to_end"]
    print(
        f"\n{results['model']} on {dataset.n} {args.data} images, CPU, "
        f"{results['torch_threads']} threads (median of {args.repeat}):\n"
        f"  compiling the 13 copies (once per set)   {robust_compile_s:8.2f} s\n"
        f"  inference loop, clean set                {loop['clean_s']:8.3f} s\n"
        f"  inference loop, the 13 copies            {copies:8.3f} s"
        f"  ({copies / loop['clean_s']:.1f}x the clean loop)\n"
        f"  end to end, score()                      {e2e['clean_wall_s']:8.2f} s\n"
        f"  end to end, score_robust()               {e2e['robust_wall_s']:8.2f} s"
        f"  (+{e2e['robust_wall_s'] - e2e['clean_wall_s']:.2f} s,"
        f" {e2e['robust_wall_s'] / e2e['clean_wall_s']:.2f}x; sandbox {e2e['sandbox']})"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
