"""unpack_archive on hostile archives built here (each refused, nothing left) and on good ones."""

from __future__ import annotations

import io
import stat
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from evaluator.datasets.archive import ArchiveError, Unpacked, archive_kind, unpack_archive
from evaluator.errors import DatasetError

MIB = 2**20
FILES = {"top/cat/a.txt": b"a" * 100, "top/dog/b.txt": b"b" * 300, "top/readme.txt": b"hello"}


def write_zip(path: Path, files: dict[str, bytes], *raw: tuple[zipfile.ZipInfo, bytes]) -> Path:
    """A deflated zip of ``files``, then ``raw`` entries with hand-set names and modes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for info, data in raw:
            zf.writestr(info, data)
    return path


def tar_entry(
    name: str, *, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **attrs: object
) -> tuple[tarfile.TarInfo, io.BytesIO | None]:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, len(data) if kind == tarfile.REGTYPE else 0
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, io.BytesIO(data) if kind == tarfile.REGTYPE else None


def write_tar(path: Path, files: dict[str, bytes], *extra, mode: str = "w", **kw) -> Path:
    with tarfile.open(path, mode, **kw) as tar:
        for name, data in files.items():
            tar.addfile(*tar_entry(name, data=data))
        for info, body in extra:
            tar.addfile(info, body)
    return path


def refused(archive: Path, target: Path, *patterns: str, **caps: int) -> str:
    """Unpacking is refused with a message matching every pattern, and leaves nothing behind."""
    with pytest.raises(ArchiveError) as caught:
        unpack_archive(archive=archive, target=target, **caps)
    message = str(caught.value)
    for pattern in patterns:
        assert pattern in message, message
    assert isinstance(caught.value, DatasetError) and caught.value.code == "dataset_invalid"
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir() if ".tmp-" in p.name] == []
    return message


def contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# --- good archives -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_tar_of_every_compression_unpacks(tmp_path: Path, mode: str) -> None:
    archive = write_tar(tmp_path / "set.tar.any", FILES, mode=mode)
    assert archive_kind(path=archive) == "tar"
    report = unpack_archive(archive=archive, target=tmp_path / "out")
    assert report == Unpacked(root=tmp_path / "out", kind="tar", files=3, bytes=405, skipped=0)
    assert contents(tmp_path / "out") == FILES
    assert stat.S_IMODE((tmp_path / "out" / "top" / "readme.txt").stat().st_mode) == 0o644


def test_zip_skips_junk_and_takes_windows_separators(tmp_path: Path) -> None:
    junk = {"__MACOSX/top/cat/._a.txt": b"x", "top/.DS_Store": b"x", "top/cat/._a.txt": b"x"}
    archive = write_zip(tmp_path / "set.zip", {**FILES, **junk, "top\\eel\\c.txt": b"c"})
    assert archive_kind(path=archive) == "zip"
    report = unpack_archive(archive=archive, target=tmp_path / "out")
    assert (report.kind, report.files, report.skipped) == ("zip", 4, 3)
    assert contents(tmp_path / "out") == {**FILES, "top/eel/c.txt": b"c"}


def test_tar_made_from_a_folder_with_its_dot_entry(tmp_path: Path) -> None:
    """``tar -C dir .`` writes "." and "./name" entries."""
    dot = tar_entry(".", kind=tarfile.DIRTYPE)
    archive = write_tar(tmp_path / "set.tar", {"./cat/a.txt": b"a"}, dot)
    unpack_archive(archive=archive, target=tmp_path / "out")
    assert contents(tmp_path / "out") == {"cat/a.txt": b"a"}


def test_zip_folder_entries_and_empty_files(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "set.zip", {"top/": b"", "top/empty/": b"", "top/z.txt": b""})
    unpack_archive(archive=archive, target=tmp_path / "out")
    assert (tmp_path / "out" / "top" / "empty").is_dir()
    assert contents(tmp_path / "out") == {"top/z.txt": b""}


# --- paths and entry types ---------------------------------------------------------------------


def test_zip_traversal_and_absolute_paths(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "up.zip", {"top/ok.txt": b"ok", "top/../../evil.txt": b"x"})
    refused(archive, tmp_path / "out", "up.zip", "'top/../../evil.txt'", "'..'")
    absolute = zipfile.ZipInfo("placeholder")
    absolute.filename = "/etc/evil.txt"  # zipfile's constructor would keep it; be sure
    archive = write_zip(tmp_path / "abs.zip", {}, (absolute, b"x"))
    refused(archive, tmp_path / "out", "'/etc/evil.txt'", "absolute path")
    assert not (tmp_path / "evil.txt").exists()


def test_tar_traversal_and_absolute_paths(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "up.tar", {"a.txt": b"a", "../evil.txt": b"x"})
    refused(archive, tmp_path / "out", "'../evil.txt'", "'..'")
    archive = write_tar(tmp_path / "abs.tar.gz", {"/tmp/evil.txt": b"x"}, mode="w:gz")
    refused(archive, tmp_path / "out", "'/tmp/evil.txt'", "absolute path")
    assert not (tmp_path / "evil.txt").exists()


def test_tar_links_devices_and_fifos(tmp_path: Path) -> None:
    cases = {
        "symbolic link": tar_entry("top/passwd", kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
        "hard link": tar_entry("top/hard", kind=tarfile.LNKTYPE, linkname="top/a.txt"),
        "device file": tar_entry("top/tty", kind=tarfile.CHRTYPE, devmajor=5, devminor=0),
        "FIFO": tar_entry("top/pipe", kind=tarfile.FIFOTYPE),
    }
    for problem, entry in cases.items():
        archive = write_tar(tmp_path / f"{problem}.tar", {"top/a.txt": b"a"}, entry)
        message = refused(archive, tmp_path / "out", f"'{entry[0].name}'", problem)
        assert "only regular files and folders" in message


def test_zip_symlink_and_special_entries(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("top/passwd")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = write_zip(tmp_path / "link.zip", {"top/a.txt": b"a"}, (link, b"/etc/passwd"))
    refused(archive, tmp_path / "out", "'top/passwd'", "symbolic link")
    fifo = zipfile.ZipInfo("top/pipe")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    archive = write_zip(tmp_path / "fifo.zip", {}, (fifo, b""))
    refused(archive, tmp_path / "out", "'top/pipe'", "special file")


def test_duplicate_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("top/a.txt", b"first")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("top/a.txt", b"second")
    refused(archive, tmp_path / "out", "'top/a.txt'", "appears twice")


# --- caps --------------------------------------------------------------------------------------


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "bomb.zip", {"top/zeros.bin": bytes(50 * MIB)})
    assert archive.stat().st_size < 100_000
    refused(archive, tmp_path / "out", "'top/zeros.bin'", "more than 1.0 MiB", max_bytes=MIB)


def lie_about_size(archive: Path, *, declared: int) -> None:
    """Rewrite the one entry's uncompressed size in its local header and in the directory."""
    data = bytearray(archive.read_bytes())
    struct.pack_into("<I", data, 22, declared)  # local file header
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    archive.write_bytes(bytes(data))


def test_zip_bomb_with_lying_headers_is_stopped(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "liar.zip", {"top/zeros.bin": bytes(50 * MIB)})
    lie_about_size(archive, declared=1000)
    assert zipfile.ZipFile(archive).getinfo("top/zeros.bin").file_size == 1000
    refused(archive, tmp_path / "out", "'top/zeros.bin'", "damaged", max_bytes=MIB)


def test_tar_bomb_is_stopped_while_writing(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "bomb.tar.gz", {"top/zeros.bin": bytes(50 * MIB)}, mode="w:gz")
    assert archive.stat().st_size < 200_000
    refused(archive, tmp_path / "out", "'top/zeros.bin'", "while writing", max_bytes=MIB)


def test_byte_cap_counts_every_file(tmp_path: Path) -> None:
    files = {f"top/{i}.bin": bytes(300_000) for i in range(4)}
    archive = write_tar(tmp_path / "many.tar", files)
    refused(archive, tmp_path / "out", "'top/3.bin'", "more than 1.0 MiB", max_bytes=MIB)
    assert unpack_archive(archive=archive, target=tmp_path / "ok", max_bytes=2 * MIB).files == 4


def test_too_many_files(tmp_path: Path) -> None:
    files = {f"top/{i:02d}.txt": b"x" for i in range(30)}
    refused(write_zip(tmp_path / "many.zip", files), tmp_path / "out", "30 entries", max_files=10)
    archive = write_tar(tmp_path / "many.tgz", files, mode="w:gz")
    refused(archive, tmp_path / "out", "more than 10 entries", "'top/10.txt'", max_files=10)
    assert unpack_archive(archive=archive, target=tmp_path / "ok", max_files=30).files == 30


def test_oversized_tar_header_is_not_read_into_memory(tmp_path: Path) -> None:
    entry = tar_entry("top/a.txt", data=b"a", pax_headers={"comment": "x" * (2 * MIB)})
    archive = write_tar(tmp_path / "pax.tar.gz", {}, entry, mode="w:gz", format=tarfile.PAX_FORMAT)
    refused(archive, tmp_path / "out", "damaged", "extended header")


# --- damaged archives --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["set.zip", "set.tar", "set.tar.gz", "set.tar.bz2", "set.tar.xz"])
def test_archive_cut_in_half(tmp_path: Path, name: str) -> None:
    files = {f"top/{i}.bin": bytes(range(256)) * 40 * (i + 1) for i in range(6)}
    if name.endswith(".zip"):
        archive = write_zip(tmp_path / name, files)
    else:
        archive = write_tar(tmp_path / name, files, mode="w:" + name.partition(".tar")[2][1:])
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    refused(archive, tmp_path / "out", name, "the archive is damaged or truncated")


@pytest.mark.parametrize("cut", [0, 100])
def test_tar_cut_at_or_in_a_header(tmp_path: Path, cut: int) -> None:
    """tarfile itself stops without a word when the cut falls at or inside a member's header."""
    archive = write_tar(tmp_path / "set.tar", FILES)
    with tarfile.open(archive) as tar:
        second = tar.getmembers()[1].offset
    archive.write_bytes(archive.read_bytes()[: second + cut])
    refused(archive, tmp_path / "out", "the archive is damaged or truncated")


def test_not_an_archive_and_existing_target(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    refused(tmp_path / "notes.txt", tmp_path / "out", "notes.txt: not a zip or tar archive")
    (tmp_path / "empty.zip").write_bytes(b"")
    refused(tmp_path / "empty.zip", tmp_path / "out", "the archive is damaged or truncated")
    archive = write_zip(tmp_path / "set.zip", FILES)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("keep")
    with pytest.raises(ArchiveError, match="already exists"):
        unpack_archive(archive=archive, target=tmp_path / "taken")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "keep"
    only_junk = write_zip(tmp_path / "junk.zip", {"__MACOSX/x": b"x", ".DS_Store": b"x"})
    refused(only_junk, tmp_path / "out", "holds no files")
