"""`python -m evaluator {import,score,robust,check}`: the contract other tools (the worker, CI)
depend on. ``robust`` compiles a set's transformed copies for the robustness track; ``score
--robustness`` scores them too; ``check`` runs a model on a few labelled images as scoring would,
without scoring it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evaluator.errors import EvaluatorError


def _add_score_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("score", help="score a model file on a compiled hidden test set")
    p.add_argument("--dataset", required=True, type=Path, help="compiled set directory")
    p.add_argument(
        "--model", required=True, type=Path, help="ONNX, safetensors, .pt2 or TorchScript"
    )
    p.add_argument("--arch", help="architecture name, required for safetensors weights")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--timeout", type=float, default=600, help="wall-clock limit, seconds")
    p.add_argument(
        "--memory-mb", type=int, default=8192, help="memory cap for the whole run (0: none)"
    )
    p.add_argument(
        "--pids-max", type=int, default=256, help="processes and threads of the run (0: none)"
    )
    p.add_argument("--require-sandbox", action="store_true", help="fail if bubblewrap can't run")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--robustness",
        action="store_true",
        help="also score the transformed copies (compiled first if absent)",
    )


def _add_robust_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "robust", help="compile a set's transformed copies for the robustness track"
    )
    p.add_argument("--dataset", required=True, type=Path, help="compiled set directory")
    p.add_argument("--overwrite", action="store_true", help="compile again even if current")


def run_robust(args: argparse.Namespace) -> int:
    import time

    from evaluator.robustness.compile import compile_robust_sets

    started = time.perf_counter()
    try:
        compiled = compile_robust_sets(
            dataset_dir=args.dataset, overwrite=args.overwrite, progress=True
        )
    except EvaluatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{len(compiled.names)} transformed copies in {compiled.directory} "
        f"({time.perf_counter() - started:.1f} s), fingerprint {compiled.fingerprint[:16]}"
    )
    return 0


def _summary(result: dict) -> str:
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.2f}%"

    lines = [
        f"top-1 error {pct(result['top1_error'])}   top-5 error {pct(result['top5_error'])}"
        f"   ({result['n_images']} images)",
    ]
    for part in ("public", "private"):
        r = result[part]
        lines.append(
            f"  {part:<8} top-1 {pct(r['top1_error'])}  top-5 {pct(r['top5_error'])}"
            f"  ({r['n_images']} images)"
        )
    robust = result.get("robustness")
    if robust:
        from evaluator.robustness.report import summary_lines

        lines += summary_lines(robust)
    lines.append(
        f"format {result['format']}, device {result['device']}, {result['precision']}, "
        f"{result['throughput_img_s'] or 0:.0f} img/s, sandbox {result['sandbox']}"
    )
    return "\n".join(lines)


def run_score(args: argparse.Namespace) -> int:
    # Only the robustness track needs torch in this process (to compile its copies); a plain
    # score imports neither torch nor torchvision here: the sandboxed child does.
    if args.robustness:
        from evaluator.robustness import score_robust as run
    else:
        from evaluator.scoring import score as run

    try:
        result = run(
            dataset_dir=args.dataset,
            model_path=args.model,
            arch=args.arch,
            device=args.device,
            precision=args.precision,
            batch_size=args.batch_size,
            timeout_s=args.timeout,
            memory_mb=args.memory_mb or None,
            pids_max=args.pids_max or None,
            require_sandbox=args.require_sandbox,
        )
    except (EvaluatorError, FileNotFoundError) as exc:
        code = getattr(exc, "code", "not_found")
        message = str(exc) if isinstance(exc, EvaluatorError) else f"no such file: {exc.filename}"
        if args.json:
            print(json.dumps({"error": message, "code": code}))
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(json.dumps(result) if args.json else _summary(result))
    return 0


def _add_check_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check", help="run a model on a set's first images as scoring would, without scoring"
    )
    p.add_argument("--samples", required=True, type=Path, help="compiled set of public images")
    p.add_argument("--count", type=int, default=8, help="how many of its first images")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--arch", help="architecture name, required for safetensors weights")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--timeout", type=float, default=120, help="wall-clock limit, seconds")
    p.add_argument("--memory-mb", type=int, default=8192, help="memory cap (0: none)")
    p.add_argument("--pids-max", type=int, default=256, help="processes and threads (0: none)")
    p.add_argument("--require-sandbox", action="store_true", help="fail if bubblewrap can't run")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _check_summary(result: dict) -> str:
    if not result["ok"]:
        return f"not ok ({result['error_code']}): {result['error_message']}"
    lines = [
        f"ok: {result['format']} loads, output {result['output_shape']} as expected, "
        f"{result['seconds_per_image']:.3f} s per image (loading included), "
        f"sandbox {result['sandbox']}"
    ]
    for sample in result["samples"]:
        guesses = ", ".join(f"{g['name']} {100 * g['prob']:.1f}%" for g in sample["guesses"])
        lines.append(f"  {sample['label_name']} (rank {sample['true_rank'] + 1}): {guesses}")
    return "\n".join(lines)


def run_check(args: argparse.Namespace) -> int:
    from evaluator.check import check_model
    from evaluator.datasets import open_dataset

    try:
        samples = open_dataset(args.samples)
        report = check_model(
            model_path=args.model,
            arch=args.arch,
            samples=samples.images[: args.count],
            labels=samples.labels[: args.count],
            class_names=samples.class_names,
            spec=samples.spec,
            num_classes=samples.num_classes,
            device=args.device,
            timeout_s=args.timeout,
            memory_mb=args.memory_mb or None,
            pids_max=args.pids_max or None,
            precision=args.precision,
            require_sandbox=args.require_sandbox,
        )
    except (EvaluatorError, ValueError) as exc:  # the samples' set or the platform, not the model
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = report.to_dict()
    print(json.dumps(result) if args.json else _check_summary(result))
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    from evaluator.datasets.cli import add_import_parser

    parser = argparse.ArgumentParser(prog="python -m evaluator", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_import_parser(subparsers)
    _add_score_parser(subparsers)
    _add_robust_parser(subparsers)
    _add_check_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "import":
        from evaluator.datasets.cli import run_import

        return run_import(args)
    if args.command == "robust":
        return run_robust(args)
    if args.command == "check":
        return run_check(args)
    return run_score(args)
