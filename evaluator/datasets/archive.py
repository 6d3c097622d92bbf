"""Unpack an uploaded zip or tar into a fresh folder, refusing anything that is not plain data.

A host's test set arrives as one archive written by any tool on any system. Only regular files
and folders under the target are ever created: absolute paths, ``..``, links and special files
are refused by name, as are archives with too many entries or too many unpacked bytes. Bytes are
counted as they are written, never taken on the headers' word (a zip bomb can fake them).
Everything is written into a hidden temporary sibling of the target and renamed into place once
complete, so a refused or interrupted unpack (Ctrl-C, a task's time limit) leaves nothing behind.
"""

from __future__ import annotations

import lzma
import os
import shutil
import stat
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

from evaluator.errors import DatasetError

MAX_FILES = 200_000
MAX_BYTES = 8 * 2**30
CHUNK_BYTES = 2**20
DAMAGED = "the archive is damaged or truncated"
# What operating systems and tools add beside the data; "._cat.png" is macOS metadata, no image.
JUNK_NAMES = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", ".ipynb_checkpoints"})
JUNK_PREFIX = "._"
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
# tarfile reads a long-name or pax header whole into memory: one over this is no honest header.
MAX_HEADER_BYTES = 2**20
HEADER_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE)
HEADER_TYPES += (tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE)
# zipfile parses the whole central directory up front: its size is checked first, at this many
# bytes per allowed entry (a real entry is 46 bytes plus its name and extra fields).
DIRECTORY_BYTES_PER_ENTRY = 1024
ZIP_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
# What reading a damaged zip, tar or compressed stream raises (gzip's BadGzipFile is an OSError).
ARCHIVE_ERRORS = (tarfile.ReadError, tarfile.CompressionError, zipfile.BadZipFile, struct.error)
STREAM_ERRORS = (EOFError, zlib.error, lzma.LZMAError, OSError, ValueError)
READ_ERRORS = ARCHIVE_ERRORS + STREAM_ERRORS


class ArchiveError(DatasetError):
    """An uploaded archive is refused: unsafe, over a cap, damaged, or no archive at all."""


@dataclass(frozen=True)
class Unpacked:
    """What an archive held, once unpacked at ``root``."""

    root: Path
    kind: str  # "zip" or "tar"
    files: int
    bytes: int
    skipped: int  # junk entries left out: __MACOSX/, .DS_Store, ._*...


def size_text(n: int) -> str:
    if n < 2**20:
        return f"{n:,} bytes"
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def is_junk(name: str) -> bool:
    """Whether a path (``/``-separated) is system clutter rather than data."""
    return any(part in JUNK_NAMES or part.startswith(JUNK_PREFIX) for part in name.split("/"))


def path_problem(name: str) -> str | None:
    """Why ``name`` may not be written under the target, or None when it may."""
    if "\x00" in name:
        return "has a NUL byte in its name"
    if name.startswith("/"):
        return "has an absolute path"
    if ".." in name.split("/"):
        return "leaves the target folder ('..' in its path)"
    return None


@dataclass
class Writer:
    """Creates admitted entries under ``root`` and counts them against the caps."""

    root: Path
    archive: str
    max_files: int
    max_bytes: int
    entries: int = 0
    files: int = 0
    written: int = 0
    skipped: int = 0

    def refuse(self, member: str, problem: str) -> NoReturn:
        raise ArchiveError(f"{self.archive}: member '{member}' {problem}")

    def admit(self, member: str, *, kind: str) -> Path | None:
        """Where to write ``member`` ("file" or "folder" kind), or None for junk to skip.

        Any other kind is the archive's own word for a link or special file, and is refused.
        """
        self.entries += 1
        if self.entries > self.max_files:
            raise ArchiveError(
                f"{self.archive}: more than {self.max_files:,} entries (stopped at member "
                f"'{member}'); refused"
            )
        if is_junk(member):
            self.skipped += 1
            return None
        problem = path_problem(member)
        if problem is not None:
            self.refuse(member, problem)
        if kind not in ("file", "folder"):
            self.refuse(member, f"is {kind}; only regular files and folders are accepted")
        parts = [p for p in member.split("/") if p not in ("", ".")]
        if not parts and kind == "file":
            self.refuse(member, "has an empty name")
        path = self.root.joinpath(*parts)  # "." (tar's first entry, often) is the root itself
        if os.path.commonpath([self.root, path]) != str(self.root):  # cannot happen after checks
            self.refuse(member, "leaves the target folder")
        return path

    def folder(self, member: str, path: Path) -> None:
        try:
            path.mkdir(mode=0o755, parents=True, exist_ok=True)
        except OSError as exc:
            self.refuse(member, f"cannot be written: {exc.strerror or exc}")

    def file(self, member: str, path: Path, stream: IO[bytes]) -> None:
        """Copy ``stream`` to a new file at ``path``, stopping at the byte cap."""
        try:
            path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            self.refuse(member, "appears twice (or as both a file and a folder)")
        except OSError as exc:
            self.refuse(member, f"cannot be written: {exc.strerror or exc}")
        self.files += 1
        with os.fdopen(fd, "wb") as out:
            while chunk := self.read(member, stream):
                self.written += len(chunk)
                if self.written > self.max_bytes:
                    raise ArchiveError(
                        f"{self.archive}: unpacks to more than {size_text(self.max_bytes)} "
                        f"(stopped while writing member '{member}'); refused"
                    )
                try:
                    out.write(chunk)
                except OSError as exc:
                    self.refuse(member, f"cannot be written: {exc.strerror or exc}")

    def read(self, member: str, stream: IO[bytes]) -> bytes:
        try:
            return stream.read(CHUNK_BYTES)
        except READ_ERRORS as exc:
            raise ArchiveError(
                f"{self.archive}: {DAMAGED}: member '{member}' cannot be read ({exc})"
            ) from exc


def archive_kind(*, path: Path) -> str | None:
    """Which archive ``path`` is, told by content: "zip", "tar" (plain, gz, bz2, xz) or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
        if head in (b"PK\x03\x04", b"PK\x05\x06") or zipfile.is_zipfile(path):
            return "zip"
        return "tar" if tarfile.is_tarfile(path) else None
    except READ_ERRORS:
        return None


def has_archive_suffix(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


# --- zip -----------------------------------------------------------------------------------------


def zip_directory_size(path: Path) -> tuple[int, int] | None:
    """(entries, bytes) of the central directory from the end records; None when not found."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - 22 - 0xFFFF))
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
        if entries != 0xFFFF and directory != 0xFFFFFFFF:
            return entries, directory
        locator = tail[at - 20 : at] if at >= 20 else b""
        if not locator.startswith(b"PK\x06\x07"):
            return None
        f.seek(struct.unpack("<Q", locator[8:16])[0])
        record = f.read(56)
    if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
        return None
    return struct.unpack("<QQ", record[32:48])


def zip_kind(info: zipfile.ZipInfo) -> str:
    """The entry's type from its Unix mode bits, where the tool that wrote it set them."""
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if file_type == stat.S_IFLNK:
        return "a symbolic link"
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "a special file (device, FIFO or socket)"
    return "folder" if info.is_dir() or file_type == stat.S_IFDIR else "file"


def open_zip(archive: Path, writer: Writer) -> zipfile.ZipFile:
    """The archive, once its directory is known to be of a size the caps allow."""
    found = zip_directory_size(archive)
    if found is not None:
        entries, directory = found
        if entries > writer.max_files or directory > writer.max_files * DIRECTORY_BYTES_PER_ENTRY:
            raise ArchiveError(
                f"{archive.name}: {entries:,} entries ({directory:,} bytes of directory), "
                f"over the limit of {writer.max_files:,} entries"
            )
    try:
        return zipfile.ZipFile(archive)
    except READ_ERRORS as exc:
        raise ArchiveError(f"{archive.name}: {DAMAGED} ({exc})") from exc


def check_declared(archive: Path, infos: list[zipfile.ZipInfo], writer: Writer) -> None:
    """Refuse at once what the headers already own up to; the real bytes are counted later."""
    if len(infos) > writer.max_files:
        raise ArchiveError(
            f"{archive.name}: {len(infos):,} entries, over the limit of {writer.max_files:,}"
        )
    total = 0
    for info in infos:
        total += info.file_size
        if total > writer.max_bytes:
            raise ArchiveError(
                f"{archive.name}: unpacks to more than {size_text(writer.max_bytes)} "
                f"(its headers say so by member '{info.filename}'); refused"
            )


def unpack_zip(archive: Path, writer: Writer) -> None:
    with open_zip(archive, writer) as zf:
        infos = zf.infolist()
        check_declared(archive, infos, writer)
        for info in infos:
            name = info.filename.replace("\\", "/")  # some Windows tools write backslashes
            kind = zip_kind(info)
            path = writer.admit(name, kind=kind)
            if path is None:
                continue
            if kind == "folder":
                writer.folder(name, path)
                continue
            if info.flag_bits & 0x1:
                writer.refuse(name, "is encrypted; upload an archive without a password")
            if info.compress_type not in ZIP_METHODS:
                writer.refuse(
                    name,
                    f"uses compression method {info.compress_type}, which is not supported "
                    f"({', '.join(ZIP_METHODS.values())} are)",
                )
            try:
                stream = zf.open(info)
            except READ_ERRORS as exc:
                raise ArchiveError(
                    f"{archive.name}: {DAMAGED}: member '{name}' cannot be read ({exc})"
                ) from exc
            with stream:
                writer.file(name, path, stream)


# --- tar -----------------------------------------------------------------------------------------


class BoundedTarInfo(tarfile.TarInfo):
    """A tar header that refuses a long-name or pax header too large to read into memory."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in HEADER_TYPES and self.size > MAX_HEADER_BYTES:
            raise tarfile.ReadError(
                f"an extended header of {self.size:,} bytes (at most {MAX_HEADER_BYTES:,})"
            )
        return super()._proc_member(tarfile_)


def tar_kind(member: tarfile.TarInfo) -> str:
    if member.isreg():
        return "file"
    if member.isdir():
        return "folder"
    if member.issym():
        return f"a symbolic link (to '{member.linkname}')"
    if member.islnk():
        return f"a hard link (to '{member.linkname}')"
    if member.ischr() or member.isblk():
        return "a device file"
    if member.isfifo():
        return "a FIFO (named pipe)"
    return f"of tar type {member.type!r}"


def tar_members(tar: tarfile.TarFile, archive: Path) -> Iterator[tarfile.TarInfo]:
    """Members one at a time (not the whole list first), then a check that the tar is whole."""
    while True:
        try:
            member = tar.next()
        except READ_ERRORS as exc:
            raise ArchiveError(f"{archive.name}: {DAMAGED} ({exc})") from exc
        if member is None:
            break
        tar.members.clear()  # kept only for links, which are refused: memory stays flat
        yield member
    # tarfile stops quietly at a header cut short; a whole tar ends with a block of zeros.
    try:
        tar.fileobj.seek(tar.offset)
        end = tar.fileobj.read(tarfile.BLOCKSIZE)
    except READ_ERRORS as exc:
        raise ArchiveError(f"{archive.name}: {DAMAGED} ({exc})") from exc
    if len(end) < tarfile.BLOCKSIZE or end.count(0) != tarfile.BLOCKSIZE:
        raise ArchiveError(f"{archive.name}: {DAMAGED} (it ends without the end-of-archive block)")


def open_tar(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, mode="r:*", tarinfo=BoundedTarInfo)
    except READ_ERRORS as exc:
        raise ArchiveError(f"{archive.name}: {DAMAGED} ({exc})") from exc


def unpack_tar(archive: Path, writer: Writer) -> None:
    with open_tar(archive) as tar:
        for member in tar_members(tar, archive):
            path = writer.admit(member.name, kind=tar_kind(member))
            if path is None:
                continue
            try:  # the standard library's own rules (Python 3.11.4 on), behind ours
                getattr(tarfile, "data_filter", lambda *_: None)(member, str(writer.root))
            except tarfile.FilterError as exc:
                writer.refuse(member.name, f"is refused: {exc}")
            if member.isdir():
                writer.folder(member.name, path)
                continue
            stream = tar.extractfile(member)
            if stream is None:  # unreachable for a regular file; kept for the type checker
                writer.refuse(member.name, "cannot be read")
            with stream:
                writer.file(member.name, path, stream)


def unpack_archive(
    *, archive: Path, target: Path, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES
) -> Unpacked:
    """Unpack the zip or tar ``archive`` into the new folder ``target``.

    Raises ArchiveError naming the member and the problem; ``target`` then does not exist.
    ``max_files`` counts every entry (files, folders, junk); ``max_bytes`` the bytes written.
    """
    archive, target = Path(archive), Path(target)
    if not archive.is_file():
        raise ArchiveError(f"{archive}: no such file")
    kind = archive_kind(path=archive)
    if kind is None:
        problem = DAMAGED if has_archive_suffix(archive.name) else "not a zip or tar archive"
        raise ArchiveError(f"{archive.name}: {problem}")
    if target.exists() or target.is_symlink():
        raise ArchiveError(f"{target}: already exists; unpack into a new folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    writer = Writer(root=tmp, archive=archive.name, max_files=max_files, max_bytes=max_bytes)
    try:
        (unpack_zip if kind == "zip" else unpack_tar)(archive, writer)
        if not writer.files:
            raise ArchiveError(f"{archive.name}: holds no files")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Unpacked(
        root=target, kind=kind, files=writer.files, bytes=writer.written, skipped=writer.skipped
    )
