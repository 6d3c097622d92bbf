"""Import a labelled image set as a compiled hidden test set, atomically.

Everything is written into a hidden temporary sibling of ``out`` and renamed into place only
once complete, so a failed or interrupted import (Ctrl-C included) leaves nothing behind and a
half-written set can never be scored.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from evaluator import layout
from evaluator.datasets.base import Source
from evaluator.datasets.classnames import names_beside, resolve_class_names
from evaluator.datasets.compile import compile_images, drop_rows
from evaluator.datasets.fingerprint import fingerprint
from evaluator.datasets.sources import read_source
from evaluator.datasets.split import public_mask
from evaluator.datasets.store import write_json
from evaluator.errors import DatasetError
from evaluator.spec import InputSpec

# How many skipped files labels/meta.json lists by name (the count is always exact).
SKIPPED_LISTED = 100


@dataclass
class ImportReport:
    out: Path
    n_images: int
    n_skipped: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    num_classes: int = 0
    fingerprint: str = ""
    seconds: float = 0.0
    drafted: int = 0  # JPEGs decoded at a reduced scale before the resize (JPEG draft mode)
    format_version: int = layout.FORMAT_VERSION

    def to_dict(self) -> dict:
        d = asdict(self)
        d["out"] = str(self.out)
        d["skipped"] = [list(item) for item in self.skipped]
        return d

    def summary(self) -> str:
        drafted = f", {self.drafted} large JPEGs draft-decoded" if self.drafted else ""
        return (
            f"imported {self.n_images} images ({self.n_skipped} skipped{drafted}), "
            f"{self.num_classes} classes -> {self.out} in {self.seconds:.1f} s, "
            f"fingerprint {self.fingerprint[:16]} (format {self.format_version})"
        )


def check_out(out: Path, *, overwrite: bool) -> None:
    """Refuse an existing ``out``, unless overwriting a compiled set (never any other folder)."""
    if not out.exists() and not out.is_symlink():
        return
    if not overwrite:
        raise DatasetError(f"{out}: already exists; choose another path or overwrite it")
    is_set = (layout.images_dir(out) / layout.META_FILE).is_file()
    if not out.is_dir() or out.is_symlink() or not (is_set or not any(out.iterdir())):
        raise DatasetError(f"{out}: exists and is not a compiled data set; refusing to replace it")


def move_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, old / out.name)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def class_names_for(source: Source, labels: np.ndarray, names_file: Path | None) -> list[str]:
    if names_file is None and source.class_names is None and source.num_classes is None:
        names_file = names_beside(source.path)
    return resolve_class_names(
        labels_max=int(labels.max()),
        fixed=source.num_classes,
        from_source=source.class_names,
        names_file=names_file,
    )


def build(
    tmp: Path,
    source: Source,
    *,
    spec: InputSpec,
    public_fraction: float,
    seed: int,
    class_names_file: Path | None,
    skip_bad: bool,
    workers: int | None,
    jpeg_draft: bool,
    progress: bool,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Write the whole compiled set into ``tmp``; returns the report (``out`` still unset)."""
    images_dir, labels_dir, work_dir = layout.images_dir(tmp), layout.labels_dir(tmp), tmp / ".work"
    for folder in (images_dir, labels_dir, work_dir):
        folder.mkdir()
    images_path = images_dir / layout.IMAGES_FILE

    def refuse(index: int, reason: str) -> None:
        raise DatasetError(f"{source.item_name(index)}: {reason}")

    compiled = compile_images(
        source,
        spec,
        images_path,
        work_dir=work_dir,
        workers=workers,
        draft=jpeg_draft,
        progress=progress,
        on_failure=None if skip_bad else refuse,
        on_progress=on_progress,
    )
    failures = compiled.failures
    # Draft-decoded pixels differ a little from the exact recipe's: the set says so.
    version = layout.DRAFT_FORMAT_VERSION if compiled.drafted else layout.FORMAT_VERSION
    keep = np.ones(source.n, dtype=bool)
    keep[[index for index, _ in failures]] = False
    labels = source.labels[keep]
    if not labels.size:
        raise DatasetError(f"{source.path}: none of the {source.n} images could be decoded")
    if failures:
        drop_rows(images_path, keep)
    names = class_names_for(source, labels, class_names_file)
    mask = public_mask(labels.size, fraction=public_fraction, seed=seed)
    images = np.load(images_path, mmap_mode="r")
    digest = fingerprint(
        images=images, labels=labels, spec=spec, class_names=names, format_version=version
    )
    del images
    np.save(labels_dir / layout.LABELS_FILE, labels.astype(np.int64))
    np.save(labels_dir / layout.SPLIT_FILE, mask)
    skipped = [(source.item_name(index), reason) for index, reason in failures]
    write_json(
        images_dir / layout.META_FILE,
        {
            "format_version": version,
            "n": int(labels.size),
            "num_classes": len(names),
            "class_names": names,
            "spec": spec.to_dict(),
            "fingerprint": digest,
            "dtype": "uint8",
            "shape": [int(labels.size), spec.channels, spec.height, spec.width],
        },
    )
    write_json(
        labels_dir / layout.META_FILE,
        {
            "public_fraction": public_fraction,
            "seed": seed,
            "n_public": int(mask.sum()),
            "source_format": source.fmt,
            "source_path": str(source.path.resolve()),
            "n_skipped": len(skipped),
            "skipped": [list(item) for item in skipped[:SKIPPED_LISTED]],
            "jpeg_draft": jpeg_draft,
            "n_drafted": compiled.drafted,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "fingerprint": digest,
        },
    )
    shutil.rmtree(work_dir)
    return ImportReport(
        out=tmp,
        n_images=int(labels.size),
        n_skipped=len(skipped),
        skipped=skipped,
        num_classes=len(names),
        fingerprint=digest,
        drafted=compiled.drafted,
        format_version=version,
    )


def import_dataset(
    *,
    fmt: str,
    source: Path,
    out: Path,
    spec: InputSpec,
    public_fraction: float = 0.5,
    seed: int = 0,
    class_names_file: Path | None = None,
    skip_bad: bool = False,
    workers: int | None = None,
    jpeg_draft: bool = True,
    progress: bool = True,
    limit: int | None = None,
    overwrite: bool = False,
    cifar_classes: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Read ``source`` (format ``fmt``), compile it to ``spec`` and write the set at ``out``.

    ``skip_bad`` drops images that fail to decode (they are listed in the report) instead of
    failing; ``cifar_classes`` (10 or 100) settles a CIFAR batch whose variant is ambiguous.
    ``on_progress(done, total)`` follows the compile (images decoded and resized) for a web page:
    a few calls a second at most, the last with ``done == total``. ``jpeg_draft`` lets JPEGs
    whose short side is at least twice the resize target be decoded at 1/2, 1/4 or 1/8 scale
    first (faster; format version 2 where any was); False keeps the exact recipe (version 1).
    ``workers``: threads decoding image files, or processes resizing array sources.
    Raises DatasetError naming the file and the problem; on any failure ``out`` is untouched.
    """
    started = time.perf_counter()
    out = Path(out)
    check_out(out, overwrite=overwrite)
    public_mask(0, fraction=public_fraction, seed=seed)  # refuse a bad fraction before working
    found = read_source(fmt, Path(source), limit=limit, cifar_classes=cifar_classes)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        report = build(
            tmp,
            found,
            spec=spec,
            public_fraction=public_fraction,
            seed=seed,
            class_names_file=class_names_file,
            skip_bad=skip_bad,
            workers=workers,
            jpeg_draft=jpeg_draft,
            progress=progress,
            on_progress=on_progress,
        )
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a compiled set is shared read-only
        move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report.out = out
    report.seconds = time.perf_counter() - started
    return report
