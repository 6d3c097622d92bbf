"""The one reader of what a sandboxed child leaves behind, and the directory it leaves it in.

Every file in the child's output directory is hostile input. The parent creates the directory
and one empty file per name the phase may write; inside bubblewrap the directory is bound
read-only with only those files writable, so the child can neither add a file (a disk flood)
nor swap one for a link or a FIFO. The reader does not rely on that: it opens each file with
``O_NOFOLLOW | O_NONBLOCK``, requires ``fstat`` to show a regular file with one link, caps the
size before reading and reads from that descriptor, never the path again.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluator.sandbox.bwrap import Bind
from evaluator.sandbox.protocol import MAX_JSON_BYTES

NPY_HEADER_SLACK = 64 * 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


class UntrustedFile(Exception):
    """A child output that is not a plain, small enough, regular file; the message says why."""


@dataclass(frozen=True)
class OutputDir:
    """A directory the parent made for one child, with the only file names it may write."""

    path: Path
    names: tuple[str, ...]

    def binds(self, name: str = "out") -> list[Bind]:
        """The directory read-only at ``name``, each pre-created file writable inside it."""
        return [
            Bind(self.path, name),
            *(Bind(self.path / n, f"{name}/{n}", writable=True) for n in self.names),
        ]

    def file(self, name: str) -> Path:
        if name not in self.names:
            raise KeyError(f"{name} is not one of this phase's output files")
        return self.path / name


@contextlib.contextmanager
def output_dir(names: Iterable[str], *, prefix: str = "evaluator-out-") -> Iterator[OutputDir]:
    """A fresh output directory holding an empty file per name; removed afterwards."""
    names = tuple(dict.fromkeys(names))
    if any("/" in n or n in ("", ".", "..") for n in names):
        raise ValueError(f"output file names must be plain names, got {names}")
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        for name in names:
            (path / name).touch(mode=0o600)
        yield OutputDir(path=path, names=names)
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def open_untrusted(path: Path, *, max_bytes: int) -> Iterator[tuple[int, int] | None]:
    """Yield ``(fd, size)`` of a child-written regular file, or None when absent or empty.

    Raises UntrustedFile for a link, a FIFO, a device, a directory, a file with several hard
    links (it may be another file's contents) or one larger than ``max_bytes``.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UntrustedFile(f"{path.name} is a symbolic link, not a file") from None
        raise UntrustedFile(f"{path.name} cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UntrustedFile(f"{path.name} is {_kind(info.st_mode)}, not a regular file")
        if info.st_nlink != 1:
            raise UntrustedFile(f"{path.name} is a hard link to another file")
        if info.st_size > max_bytes:
            raise UntrustedFile(f"{path.name} is {info.st_size} bytes, over the {max_bytes} cap")
        yield (fd, info.st_size) if info.st_size else None
    finally:
        os.close(fd)


def read_bytes(path: Path, *, max_bytes: int) -> bytes | None:
    """The whole file through ``open_untrusted``; None when absent or empty."""
    with open_untrusted(path, max_bytes=max_bytes) as opened:
        if opened is None:
            return None
        fd, size = opened
        chunks, left = [], size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


def read_json(path: Path) -> dict | None:
    """A JSON object the child wrote, or None if absent, unreadable, oversized or not an object."""
    try:
        raw = read_bytes(path, max_bytes=MAX_JSON_BYTES)
    except UntrustedFile:
        return None
    if raw is None:
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def read_array(path: Path, *, max_elements: int) -> np.ndarray | None:
    """A float ``.npy`` array (no pickle) of at most ``max_elements`` values; None if absent.

    Raises UntrustedFile when the file is not a plain file, too large or not a float array.
    """
    with open_untrusted(path, max_bytes=max_elements * 8 + NPY_HEADER_SLACK) as opened:
        if opened is None:
            return None
        fd, _ = opened
        with os.fdopen(os.dup(fd), "rb") as f:
            try:
                array = np.load(f, allow_pickle=False)
            except (OSError, ValueError, EOFError) as exc:
                raise UntrustedFile(f"{path.name} is not a readable .npy array: {exc}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        kind = getattr(array, "dtype", type(array).__name__)
        raise UntrustedFile(f"{path.name} holds {kind} values, not floats")
    if array.size > max_elements:
        raise UntrustedFile(f"{path.name} holds {array.size} values, over {max_elements}")
    return np.ascontiguousarray(array, dtype=np.float32)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"
