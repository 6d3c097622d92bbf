"""`python -m evaluator.bench.imports`: our test-set import against decoding alone and a reference.

On one tree of JPEGs, in one run, each rate in images per second over the whole tree:
- decode only: read and decode every file, nothing else, on ``--workers`` threads, with
  torchvision's decoder (the one the import uses: the limit it works against) and with PIL's;
- import: ``import_dataset`` end to end (listing, decode, resize, crop, write, fingerprint),
  and its compile step alone (``compile_images``: decode, resize, crop, write);
- reference: torchvision's ImageFolder with PIL's decode and ``Resize`` + ``CenterCrop``,
  through a DataLoader with ``--workers`` processes, into one array (what one would write).
Runs are interleaved ``--repeat`` times; the median is printed, with the ratios between them.
Where some JPEGs are large enough for draft decoding, the exact import (no draft) runs too.

Data: ``--source DIR`` (an ImageFolder tree), or written once under ``--workdir``: ``--n``
JPEGs of ``--size`` cut from real photographs (scikit-learn's two samples, quality 90: about
100 kB at 500x375, ImageNet's size and bytes per pixel), or ``--content smooth`` for the scoring
benchmark's smooth synthetic images (27 kB each, so decoding is cheaper).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import sklearn.datasets
import torch
import torchvision
from PIL import Image
from torchvision import transforms

from evaluator.bench.data import write_synthetic_tree
from evaluator.datasets import import_dataset
from evaluator.datasets.compile import compile_images, one_intra_op_thread
from evaluator.datasets.decode import DECODE_JPEG, RGB_MODE, draft_scale, jpeg_frame
from evaluator.datasets.imagefolder import read_imagefolder_source
from evaluator.spec import InputSpec

PHOTOS = Path(sklearn.datasets.__file__).parent / "images"


def photo_jpeg(args: tuple[int, int, int, Path]) -> None:
    """One crop of a real photograph (scikit-learn's two samples, 640x427), flipped at random,
    enlarged first where the crop is larger than the photo; JPEG quality 90."""
    seed, height, width, path = args
    rng = np.random.default_rng(seed)
    with Image.open(PHOTOS / ("china.jpg", "flower.jpg")[seed % 2]) as photo:
        image = photo.convert("RGB")
    grow = max(1.0, width / image.width, height / image.height)
    if grow > 1:
        image = image.resize((round(image.width * grow), round(image.height * grow)), Image.BICUBIC)
    left = int(rng.integers(0, image.width - width + 1))
    top = int(rng.integers(0, image.height - height + 1))
    image = image.crop((left, top, left + width, top + height))
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image.save(path, quality=90)


def write_photo_tree(root: Path, *, n: int, size: tuple[int, int], workers: int) -> None:
    classes = 10
    for c in range(classes):
        (root / f"class{c:03d}").mkdir(parents=True, exist_ok=True)
    jobs = [(i, *size, root / f"class{i % classes:03d}" / f"{i:06d}.jpg") for i in range(n)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(photo_jpeg, jobs, chunksize=32))


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (DataLoader workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(n: int, run: Callable[[], object]) -> tuple[float, float]:
    """Images per second of wall time, and CPU milliseconds per image (all cores together)."""
    started, cpu = time.perf_counter(), cpu_seconds()
    run()
    return n / (time.perf_counter() - started), (cpu_seconds() - cpu) * 1000 / n


def decode_only(files: list[Path], *, workers: int, decoder: str) -> None:
    """Read and decode every file on ``workers`` threads; nothing is kept."""

    def torchvision_decode(path: Path) -> None:
        assert DECODE_JPEG is not None, "torchvision's image extension did not load"
        DECODE_JPEG(
            torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8), RGB_MODE, False
        )

    def pil_decode(path: Path) -> None:
        with Image.open(io.BytesIO(path.read_bytes())) as img:
            img.convert("RGB")

    decode = torchvision_decode if decoder == "torchvision" else pil_decode
    with one_intra_op_thread(), ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(decode, files, chunksize=64):
            pass


def reference(root: Path, spec: InputSpec, *, workers: int) -> None:
    """torchvision's ImageFolder, PIL transforms and a DataLoader, into one uint8 array."""
    recipe = transforms.Compose(
        [
            transforms.Resize(spec.resize_short or max(spec.height, spec.width)),
            transforms.CenterCrop((spec.height, spec.width)),
            transforms.PILToTensor(),
        ]
    )
    folder = torchvision.datasets.ImageFolder(str(root), transform=recipe)
    out = np.empty((len(folder), spec.channels, spec.height, spec.width), np.uint8)
    loader = torch.utils.data.DataLoader(folder, batch_size=64, num_workers=workers)
    done = 0
    for images, _ in loader:
        out[done : done + len(images)] = images.numpy()
        done += len(images)


def import_once(root: Path, out: Path, spec: InputSpec, *, workers: int, draft: bool) -> None:
    import_dataset(
        fmt="imagefolder",
        source=root,
        out=out,
        spec=spec,
        workers=workers,
        jpeg_draft=draft,
        progress=False,
        overwrite=True,
    )


def compile_once(root: Path, work: Path, spec: InputSpec, *, workers: int) -> None:
    source = read_imagefolder_source(root)
    work.mkdir(exist_ok=True)
    compile_images(
        source, spec, work / "images.npy", work_dir=work, workers=workers, progress=False
    )


def describe(files: list[Path], spec: InputSpec) -> tuple[str, bool]:
    """What the tree holds, from a sample of headers; and whether any JPEG is draft-sized."""
    sizes = {}
    drafted = 0
    for path in files[:: max(1, len(files) // 200)]:  # a sample: headers only
        frame = jpeg_frame(path.read_bytes()[:65536])
        if frame is not None:
            sizes[(frame.width, frame.height)] = sizes.get((frame.width, frame.height), 0) + 1
            drafted += draft_scale(spec, frame.height, frame.width) > 1
    common = ", ".join(f"{w}x{h}" for (w, h), _ in sorted(sizes.items(), key=lambda i: -i[1])[:3])
    kb = statistics.mean(p.stat().st_size for p in files) / 1024
    text = f"{len(files)} files, {kb:.0f} kB on average, mostly {common}"
    return text + (f"; {drafted} of the sample draft-sized" if drafted else ""), drafted > 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluator.bench.imports", description=__doc__)
    p.add_argument("--source", type=Path, help="an ImageFolder tree (default: write one)")
    p.add_argument("--n", type=int, default=2000, help="images to write")
    p.add_argument("--size", default="500x375", help="W x H of the images to write")
    p.add_argument("--content", choices=["photo", "smooth"], default="photo")
    p.add_argument("--resize-short", type=int, default=256)
    p.add_argument("--crop", type=int, default=224)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-reference", action="store_true")
    p.add_argument("--workdir", type=Path, help="keep generated data here (default: temp dir)")
    args = p.parse_args(argv)

    spec = InputSpec(channels=3, height=args.crop, width=args.crop, resize_short=args.resize_short)
    tmp = tempfile.TemporaryDirectory(prefix="bench-import-")
    work = args.workdir or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    root = args.source
    if root is None:
        width, height = (int(v) for v in args.size.lower().split("x"))
        root = work / f"{args.content}-{args.n}-{width}x{height}"
        if not root.exists():
            if args.content == "smooth" and (width, height) == (500, 375):
                write_synthetic_tree(root, n=args.n, classes=10, workers=args.workers)
            elif args.content == "smooth":
                raise SystemExit("--content smooth writes 500x375 images only")
            else:
                write_photo_tree(root, n=args.n, size=(height, width), workers=args.workers)
    files = read_imagefolder_source(root).files or []
    n = len(files)
    text, any_draft = describe(files, spec)
    print(f"data: {root}: {text}")
    print(
        f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"{args.workers} workers, recipe resize {args.resize_short} then crop {args.crop}"
    )
    load_before = os.getloadavg()

    runs: dict[str, Callable[[], object]] = {
        "decode only, torchvision": lambda: decode_only(
            files, workers=args.workers, decoder="torchvision"
        ),
        "decode only, PIL": lambda: decode_only(files, workers=args.workers, decoder="pil"),
        "import (import_dataset)": lambda: import_once(
            root, work / "set", spec, workers=args.workers, draft=True
        ),
        "compile step alone": lambda: compile_once(
            root, work / "compile", spec, workers=args.workers
        ),
    }
    if any_draft:
        runs["import, exact (no draft)"] = lambda: import_once(
            root, work / "set-exact", spec, workers=args.workers, draft=False
        )
    if not args.skip_reference:
        runs["reference: PIL + torchvision"] = lambda: reference(root, spec, workers=args.workers)
    rates: dict[str, list[float]] = {name: [] for name in runs}
    costs: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, run in runs.items():
            found, cost = timed(n, run)
            rates[name].append(found)
            costs[name].append(cost)
    median = {name: statistics.median(found) for name, found in rates.items()}
    cpu = {name: statistics.median(found) for name, found in costs.items()}
    limit, limit_cpu = median["decode only, torchvision"], cpu["decode only, torchvision"]
    heading = ("img/s", "x decode", "CPU ms/img", "x decode")
    print(f"{'':30s} {heading[0]:>7s} {heading[1]:>9s} {heading[2]:>11s} {heading[3]:>9s}  runs")
    for name, found in rates.items():
        spread = ", ".join(f"{r:.0f}" for r in found)
        print(
            f"{name:30s} {median[name]:7.0f} {median[name] / limit:9.2f} "
            f"{cpu[name]:11.2f} {limit_cpu / cpu[name]:9.2f}  [{spread}]"
        )
    ours = "import (import_dataset)"
    print(
        f"import vs decode only (torchvision): {median[ours] / limit:.2f}x by the clock, "
        f"{limit_cpu / cpu[ours]:.2f}x by CPU time per image"
    )
    if "reference: PIL + torchvision" in median:
        print(f"import vs reference: {median[ours] / median['reference: PIL + torchvision']:.2f}x")
    print(f"load average: {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
