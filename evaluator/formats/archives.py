"""Zip archives (TorchScript, torch.export) opened with bounded work.

``zipfile.ZipFile`` builds an object for every entry of the central directory: a small upload
can list hundreds of thousands of entries. The end-of-central-directory record says how many
there are and how large the directory is, so both are checked before the directory is read.
Entries are read with a size cap, never whole on the archive's word.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from evaluator.errors import UnsupportedFormat

MAX_ENTRIES = 100_000
MAX_DIRECTORY_BYTES = 32 * 1024 * 1024
_EOCD, _EOCD_SIZE = b"PK\x05\x06", 22
_ZIP64_LOCATOR, _ZIP64_LOCATOR_SIZE = b"PK\x06\x07", 20
_ZIP64_EOCD, _ZIP64_EOCD_SIZE = b"PK\x06\x06", 56
_MAX_COMMENT = 0xFFFF


def open_zip(path: Path) -> zipfile.ZipFile:
    """The archive, once its directory is known to be of a reasonable size."""
    entries, directory_bytes = _directory_size(path)
    if entries > MAX_ENTRIES or directory_bytes > MAX_DIRECTORY_BYTES:
        raise UnsupportedFormat(
            f"{path.name}: a zip archive of {entries} entries ({directory_bytes} bytes of "
            f"directory); at most {MAX_ENTRIES} entries are accepted."
        )
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsupportedFormat(f"{path.name}: a damaged zip archive ({exc}).") from exc


def read_entry(archive: zipfile.ZipFile, name: str, *, limit: int) -> bytes:
    """An entry's bytes, refused when it is (or decompresses to) more than ``limit`` bytes."""
    where = f"{Path(archive.filename or 'archive').name}: {name}"
    try:
        info = archive.getinfo(name)
        if info.file_size > limit:
            raise UnsupportedFormat(f"{where} is {info.file_size} bytes, over {limit}.")
        with archive.open(info) as f:
            data = f.read(limit + 1)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnsupportedFormat(f"{where} cannot be read ({exc}).") from exc
    if len(data) > limit:
        raise UnsupportedFormat(f"{where} is over {limit} bytes.")
    return data


def archive_root(names: list[str]) -> str | None:
    """The one top-level folder every entry of a torch archive sits in, or None."""
    roots = {name.partition("/")[0] for name in names}
    return roots.pop() if len(roots) == 1 and all("/" in n for n in names) else None


def _directory_size(path: Path) -> tuple[int, int]:
    """(entries, bytes) of the central directory, from the end records (zip64 too)."""
    bad = f"{path.name}: a damaged zip archive (no end of central directory)."
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            tail_len = min(size, _EOCD_SIZE + _MAX_COMMENT)
            f.seek(size - tail_len)
            tail = f.read(tail_len)
            at = tail.rfind(_EOCD)
            if at < 0 or len(tail) - at < _EOCD_SIZE:
                raise UnsupportedFormat(bad)
            entries, directory_bytes = struct.unpack("<HI", tail[at + 10 : at + 16])
            if entries != 0xFFFF and directory_bytes != 0xFFFFFFFF:
                return entries, directory_bytes
            locator = tail[at - _ZIP64_LOCATOR_SIZE : at] if at >= _ZIP64_LOCATOR_SIZE else b""
            if not locator.startswith(_ZIP64_LOCATOR):
                raise UnsupportedFormat(bad)
            (offset,) = struct.unpack("<Q", locator[8:16])
            f.seek(offset)
            record = f.read(_ZIP64_EOCD_SIZE)
    except OSError as exc:
        raise UnsupportedFormat(f"{path.name}: cannot read the zip archive ({exc}).") from exc
    if len(record) < _ZIP64_EOCD_SIZE or not record.startswith(_ZIP64_EOCD):
        raise UnsupportedFormat(bad)
    entries64, directory64 = struct.unpack("<QQ", record[32:48])
    return entries64, directory64
