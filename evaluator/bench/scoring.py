"""`python -m evaluator.bench`: our scoring rate against a bare forward pass and the usual pipeline.

Three rates for the same model, batch size, precision and device, in one run:
- bare: forward passes on device-resident random input (the ceiling);
- ours: the scoring loop (evaluator.inference.run_inference) on the compiled uint8 set;
- reference: torchvision's ImageFolder + PIL transforms + DataLoader, decoding every image per run.
It prints the ratios between them. The compile step (done once per hidden set) is timed apart.

Data: ``--data fashion-mnist`` uses the real 10,000 test images from Debian's
dataset-fashion-mnist (written once as PNG files for the reference pipeline); ``--data synthetic``
writes JPEG photos-sized images (500x375, ImageNet-like) and compiles them with the 256/224 recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from evaluator.bench.data import FASHION_MNIST, build_model, write_png_tree, write_synthetic_tree
from evaluator.bench.rates import bare_rate, reference_rate, resident_rate, transfer_diagnostics
from evaluator.datasets import import_dataset, open_dataset
from evaluator.formats.base import LoadedModel, ModelFormat
from evaluator.inference import effective_precision, run_inference, staging
from evaluator.spec import InputSpec


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluator.bench", description=__doc__)
    p.add_argument("--model", default="lenet", help="lenet or a torchvision model name")
    p.add_argument("--data", default="fashion-mnist", choices=["fashion-mnist", "synthetic"])
    p.add_argument("--n", type=int, default=10_000, help="images (synthetic data)")
    p.add_argument("--classes", type=int, default=1000, help="classes (synthetic data)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--repeat", type=int, default=5, help="timed runs of bare and ours (median)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--skip-reference", action="store_true")
    p.add_argument("--staging-buffers", type=int, help="pinned buffers and reader threads (GPU)")
    p.add_argument("--chunk-mb", type=int, help="staging chunk size in MB (GPU)")
    p.add_argument("--workdir", type=Path, help="keep generated data here (default: temp dir)")
    p.add_argument("--json", type=Path, help="also write the results to this file")
    p.add_argument(
        "--profile",
        type=Path,
        metavar="TRACE",
        help="profile one more scoring run: write a Chrome trace here and print how much of "
        "the host-to-device copying ran under kernels",
    )
    args = p.parse_args(argv)

    torch.backends.cudnn.benchmark = True
    if args.staging_buffers:
        staging.RING = args.staging_buffers
    if args.chunk_mb:
        staging.CHUNK_BYTES = args.chunk_mb << 20
    device = torch.device(args.device)
    precision = effective_precision(device=args.device, precision=args.precision)
    tmp = tempfile.TemporaryDirectory(prefix="bench-")
    work = args.workdir or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)

    if args.data == "fashion-mnist":
        if not FASHION_MNIST.is_dir():
            raise SystemExit(f"{FASHION_MNIST} not found: apt-get install dataset-fashion-mnist")
        spec = InputSpec(channels=1, height=28, width=28, mean=(0.2860,), std=(0.3530,))
        fmt, source, tree = "idx", FASHION_MNIST, work / "png-tree"
    else:
        spec = InputSpec(channels=3, height=224, width=224, resize_short=256)
        fmt, source, tree = "imagefolder", work / "jpeg-tree", work / "jpeg-tree"
        if not source.exists():
            write_synthetic_tree(source, n=args.n, classes=args.classes, workers=args.workers)
    compiled = work / "compiled"
    compile_seconds = None
    if not compiled.exists():
        report = import_dataset(
            fmt=fmt, source=source, out=compiled, spec=spec, workers=args.workers
        )
        compile_seconds = report.seconds
    dataset = open_dataset(compiled)
    if args.data == "fashion-mnist" and not tree.exists() and not args.skip_reference:
        write_png_tree(tree, np.asarray(dataset.images), dataset.labels, workers=args.workers)

    torch.manual_seed(0)
    net = build_model(args.model, channels=spec.channels, num_classes=dataset.num_classes)
    net = net.eval().to(device)
    if device.type == "cuda":
        net = net.to(memory_format=torch.channels_last)
    n = dataset.n
    loaded = LoadedModel(kind="torch", format=ModelFormat.TORCHSCRIPT, module=net)

    def score_once():
        return run_inference(
            model=loaded,
            images=dataset.images,
            spec=spec,
            num_classes=dataset.num_classes,
            device=args.device,
            batch_size=args.batch_size,
            precision=precision,
        )

    bare, ours = [], []
    ours_logits = None
    for _ in tqdm(range(args.repeat), desc="bare + ours"):
        bare.append(
            bare_rate(
                net, spec=spec, n=n, batch=args.batch_size, device=device, precision=precision
            )
        )
        result = score_once()
        ours.append(result.images_per_second)
        ours_logits = result.logits
    results = {
        "model": args.model,
        "data": args.data,
        "n_images": n,
        "input": [spec.channels, spec.height, spec.width],
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "precision": precision,
        "batch_size": args.batch_size,
        "staging": {"buffers": staging.RING, "chunk_mb": staging.CHUNK_BYTES >> 20},
        "compile_seconds": compile_seconds,
        "bare_img_s": statistics.median(bare),
        "ours_img_s": statistics.median(ours),
        "resident": result.resident,
    }
    results["ours_over_bare"] = results["ours_img_s"] / results["bare_img_s"]
    if device.type == "cuda":
        resident = [
            resident_rate(
                loaded,
                images=dataset.images,
                spec=spec,
                batch=args.batch_size,
                device=device,
                precision=precision,
            )
            for _ in range(args.repeat)
        ]
        results["ours_set_on_device_img_s"] = statistics.median(resident)
        results["set_on_device_over_bare"] = (
            results["ours_set_on_device_img_s"] / results["bare_img_s"]
        )
        results["transfer"] = transfer_diagnostics(
            dataset.images, device=device, batch=args.batch_size
        )
    if args.profile:
        from evaluator.bench.profile import profile_run

        results["profile"] = profile_run(score_once, cuda=device.type == "cuda", trace=args.profile)
    if not args.skip_reference:
        ref, ref_logits = reference_rate(
            net,
            tree=tree,
            spec=spec,
            batch=args.batch_size,
            device=device,
            precision=precision,
            workers=args.workers,
        )
        results["reference_img_s"] = ref
        results["reference_over_bare"] = ref / results["bare_img_s"]
        results["ours_over_reference"] = results["ours_img_s"] / ref
        # ImageFolder visits files in class-folder order; match rows by the stored order.
        order = np.argsort(dataset.labels, kind="stable") if args.data == "fashion-mnist" else None
        mine = ours_logits[order] if order is not None else ours_logits
        results["top1_agreement_with_reference"] = float(
            (mine.argmax(1) == ref_logits.argmax(1)).mean()
        )
    print(json.dumps(results, indent=2))
    print(
        f"\n{args.model} on {n} images {spec.channels}x{spec.height}x{spec.width}, "
        f"{results['device']}, {precision}, batch {args.batch_size}:\n"
        f"  bare forward   {results['bare_img_s']:>10,.0f} img/s\n"
        f"  ours (scoring) {results['ours_img_s']:>10,.0f} img/s"
        f"   = {100 * results['ours_over_bare']:.1f}% of bare"
    )
    if "ours_set_on_device_img_s" in results:
        print(
            f"  ours, set already on the device {results['ours_set_on_device_img_s']:,.0f} img/s"
            f"   = {100 * results['set_on_device_over_bare']:.1f}% of bare"
        )
    if "transfer" in results:
        t = results["transfer"]
        print(
            f"  moving the {t['set_gb']:.2f} GB set: file reads {t['read_gb_s']:.1f} GB/s,"
            f" host-to-device {t['h2d_gb_s']:.1f} GB/s,"
            f" both overlapped {t['staging_gb_s']:.1f} GB/s"
        )
    if "reference_img_s" in results:
        print(
            f"  reference      {results['reference_img_s']:>10,.0f} img/s"
            f"   = {100 * results['reference_over_bare']:.1f}% of bare;"
            f" ours is {results['ours_over_reference']:.1f}x the reference"
        )
    if results.get("profile", {}).get("h2d_hidden_fraction") is not None:
        prof = results["profile"]
        print(
            f"  profiled run: {prof['wall_s'] * 1000:.0f} ms, kernels busy "
            f"{prof['kernel_busy_s'] * 1000:.0f} ms, host-to-device copies "
            f"{prof['h2d_busy_s'] * 1000:.0f} ms of which "
            f"{100 * prof['h2d_hidden_fraction']:.0f}% under kernels (trace: {prof['trace']})"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
