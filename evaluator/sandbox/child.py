"""Entry point run inside the sandbox: load the model, score the images, write the logits.

    python -m evaluator.sandbox.child --model M --format F [--arch A] --images IMGDIR \\
        --out OUTDIR --device D --batch-size B --precision P [--start S --stop E]

With ``--start``/``--stop`` it scores the images [S, E) only (one shard of a large set).
It sees the images (never the labels) and reports through OUTDIR: logits.npy and info.json on
success, error.json {"code", "message"} on failure, with an exit status that says which kind of
failure (see ``protocol``). The parent trusts none of it blindly.

With ``--robust NAMES`` (comma-separated transforms of ``evaluator.robustness``) the same loaded
model then scores each transformed copy under IMGDIR/robust/ and writes robust-<name>.npy.

With ``--samples DIR`` instead of ``--images`` it runs the insights phase on a challenge's public
sample images (``evaluator.insights.child``): no hidden image is mounted at all then.

``--plugins MODULE:ATTR,...`` names the architecture plugins the parent found and bound under
the child's PYTHONPATH (``evaluator.architectures``); the child searches for none itself.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import numpy as np

from evaluator import architectures
from evaluator.errors import (
    EvaluatorError,
    ModelCheckError,
    ModelLoadError,
    ModelMemoryError,
    first_line,
    whole_message,
)
from evaluator.formats.base import LoadedModel, ModelFormat
from evaluator.sandbox import protocol
from evaluator.spec import InputSpec

if TYPE_CHECKING:
    from evaluator.inference import InferenceResult

_OOM_MARKERS = ("out of memory", "can't allocate memory", "cannot allocate memory")
_OOM_MARKERS += ("failed to allocate", "bad_alloc", "not enough memory", "failed to map segment")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    out = Path(args.out)
    # The parent found the architecture plugins and bound their code: search nothing here.
    architectures.use_plugins([value for value in (args.plugins or "").split(",") if value])
    try:
        info = insights(args) if args.samples else score(args)
    except BaseException as exc:  # every failure is reported, none escapes as a traceback only
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return _report(out, exc)
    _write_json(out / protocol.INFO_FILE, info)
    return protocol.EXIT_OK


def score(args: argparse.Namespace) -> dict:
    """Load, run, save logits (then each robustness copy's, with the same loaded model); return
    the facts the parent records with the score."""
    from evaluator.datasets.store import image_slice, open_images
    from evaluator.robustness.child import parse_names, score_robust_copies

    _use_available_cores()
    images, meta = open_images(Path(args.images))
    images = image_slice(images, start=args.start, stop=args.stop)
    spec = InputSpec.from_dict(meta["spec"])
    num_classes = int(meta["num_classes"])
    model = load(args, spec=spec, num_classes=num_classes)
    result = infer(args, model=model, images=images, spec=spec, num_classes=num_classes)
    np.save(Path(args.out) / protocol.LOGITS_FILE, result.logits.astype(np.float32, copy=False))
    robust = None
    if args.robust:
        robust = score_robust_copies(
            names=parse_names(args.robust),
            model=model,
            infer=functools.partial(infer, args),
            images_dir=Path(args.images),
            meta=meta,
            start=args.start,
            stop=args.stop,
            out=Path(args.out),
        )
    return {
        "format": model.format.value,
        "params": model.params,
        "n_images": len(images),
        "batch_size": result.batch_size,
        "seconds": result.seconds,
        "images_per_second": result.images_per_second,
        "n_nonfinite": result.n_nonfinite,
        "precision": getattr(result, "precision", args.precision),
        "device": args.device,
        "device_name": device_name(args.device),
        "providers": _providers(model),
        "versions": _versions(),
        **({"robust": robust} if robust is not None else {}),
    }


def insights(args: argparse.Namespace) -> dict:
    """The insights phase on the public samples the parent wrote (``evaluator.insights.child``)."""
    from evaluator.insights.child import run_insights

    _use_available_cores()
    return run_insights(
        samples_dir=Path(args.samples),
        out=Path(args.out),
        model_path=Path(args.model),
        load=functools.partial(load, args),
        infer=functools.partial(infer, args),
    )


def infer(
    args: argparse.Namespace,
    *,
    model: LoadedModel,
    images: np.ndarray,
    spec: InputSpec,
    num_classes: int,
    what: str = "while scoring",
) -> InferenceResult:
    """``run_inference`` with the child's settings. Any failure that is not already one of
    the evaluator's becomes a ModelCheckError saying what was being scored (``what``)."""
    from evaluator.inference import run_inference

    try:
        return run_inference(
            model=model,
            images=images,
            spec=spec,
            num_classes=num_classes,
            device=args.device,
            batch_size=args.batch_size,
            precision=args.precision,
        )
    except (EvaluatorError, MemoryError):
        raise
    except Exception as exc:
        raise ModelCheckError(f"the model failed {what}: {whole_message(exc)}") from exc


def load(args: argparse.Namespace, *, spec: InputSpec, num_classes: int) -> LoadedModel:
    """The model named on the command line; any failure of its code is a ModelLoadError."""
    from evaluator.formats.loaders import load_model

    try:
        return load_model(
            path=Path(args.model),
            fmt=ModelFormat(args.format),
            arch=args.arch,
            spec=spec,
            num_classes=num_classes,
            device=args.device,
        )
    except (EvaluatorError, MemoryError):
        raise
    except Exception as exc:
        raise ModelLoadError(f"the model failed to load: {first_line(exc)}") from exc


def _use_available_cores() -> None:
    import torch

    from evaluator.formats.loaders import available_cores

    torch.set_num_threads(available_cores())


def device_name(device: str) -> str:
    """The GPU's name as CUDA gives it, or the CPU's: the child's own account, kept as a claim
    beside the parent's (``evaluator.hardware``)."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(torch.device(device))
    from evaluator.hardware import cpu_name

    return cpu_name()


def _report(out: Path, exc: BaseException) -> int:
    if isinstance(exc, ModelMemoryError) or _is_oom(exc):
        code, status = ModelMemoryError.code, protocol.EXIT_MEMORY
        message = exc.message if isinstance(exc, ModelMemoryError) else _oom_message(exc)
    elif isinstance(exc, EvaluatorError):
        code, status, message = exc.code, protocol.EXIT_REPORTED, exc.message
    else:
        code, status = ModelLoadError.code, protocol.EXIT_UNEXPECTED
        message = f"the evaluation failed: {first_line(exc)}"
    _write_json(out / protocol.ERROR_FILE, {"code": code, "message": message})
    print(f"{code}: {message}", file=sys.stderr)
    return status


def _is_oom(exc: BaseException) -> bool:
    """MemoryError, torch's OutOfMemoryError, or an allocator's message anywhere in the chain."""
    for link in _chain(exc):
        if isinstance(link, MemoryError) or type(link).__name__ == "OutOfMemoryError":
            return True
        if any(marker in str(link).lower() for marker in _OOM_MARKERS):
            return True
    return False


def _oom_message(exc: BaseException) -> str:
    """Quote the allocator's own line (deep in a TorchScript trace, say), not the wrapper's."""
    detail = first_line(exc)
    for link in _chain(exc):
        lines = [ln.strip() for ln in str(link).splitlines()]
        hit = next((ln for ln in lines if any(m in ln.lower() for m in _OOM_MARKERS)), None)
        if hit:
            detail = hit[:300]
            break
    return f"the model needed more memory than the limit allows: {detail}"


def _chain(exc: BaseException | None, depth: int = 5) -> list[BaseException]:
    links: list[BaseException] = []
    while exc is not None and len(links) < depth:
        links.append(exc)
        exc = exc.__cause__
    return links


def _providers(model: LoadedModel) -> list[str]:
    return list(model.session.get_providers()) if model.session is not None else []


def _versions() -> dict[str, str | None]:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "torch": version("torch"),
        "torchvision": version("torchvision"),
        "onnxruntime": version("onnxruntime") or version("onnxruntime-gpu"),
        "numpy": version("numpy"),
    }


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value), encoding="utf-8")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evaluator.sandbox.child")
    parser.add_argument("--model", required=True)
    parser.add_argument("--format", required=True, choices=[f.value for f in ModelFormat])
    parser.add_argument("--arch")
    parser.add_argument("--images")
    parser.add_argument("--samples", help="insights phase: a directory the parent wrote")
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--start", type=int, help="first image of the slice to score")
    parser.add_argument("--stop", type=int, help="one past the last image of the slice")
    parser.add_argument("--robust", help="transforms to score too, comma-separated")
    parser.add_argument("--plugins", help="architecture plugins (module:attr), comma-separated")
    args = parser.parse_args(argv)
    if (args.images is None) == (args.samples is None):
        parser.error("give exactly one of --images (scoring) and --samples (insights)")
    return args


def exit_now(status: int) -> NoReturn:
    """Exit without the interpreter's teardown, which takes over a second with torch loaded.

    Every output file has been written through a path, and so closed, by then; only the
    standard streams are flushed.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    exit_now(main())
