"""Format detection reads content, never the extension, and never unpickles."""

from __future__ import annotations

import pickle
import random
import shutil
import zipfile
from pathlib import Path

import pytest

from evaluator.errors import PickleRefused, UnsupportedFormat
from evaluator.formats.base import ModelFormat
from evaluator.formats.detect import detect_format, safetensors_param_count
from tests.evaluator.models import ModelFiles

pytestmark = pytest.mark.timeout(120)


class _CreatesMarker:
    """Unpickling this opens (creates) a file: the stand-in for arbitrary code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


@pytest.mark.parametrize(
    ("attr", "misleading_name", "expected"),
    [
        ("onnx", "model.pt", ModelFormat.ONNX),
        ("safetensors", "model.onnx", ModelFormat.SAFETENSORS),
        ("pt2", "model.safetensors", ModelFormat.TORCH_EXPORT),
        ("torchscript", "model.pt2", ModelFormat.TORCHSCRIPT),
    ],
)
def test_each_format_is_detected_from_content(
    model_files: ModelFiles,
    tmp_path: Path,
    attr: str,
    misleading_name: str,
    expected: ModelFormat,
) -> None:
    assert detect_format(getattr(model_files, attr)) is expected
    assert detect_format(_copy(getattr(model_files, attr), tmp_path / misleading_name)) is expected


@pytest.mark.parametrize("attr", ["pickled_module", "pickled_state_dict"])
def test_torch_save_files_are_refused_with_export_advice(
    model_files: ModelFiles,
    tmp_path: Path,
    attr: str,
) -> None:
    disguised = _copy(getattr(model_files, attr), tmp_path / "model.onnx")
    with pytest.raises(PickleRefused) as info:
        detect_format(disguised)
    message = str(info.value)
    assert info.value.code == "pickle_refused"
    assert 'torch.onnx.export(model, example, "model.onnx")' in message
    assert 'torch.export.save(torch.export.export(model, (example,)), "model.pt2")' in message
    assert 'safetensors.torch.save_file(model.state_dict(), "model.safetensors")' in message
    assert "--arch" in message


@pytest.mark.parametrize("protocol", [0, 1, 2, 4, 5])
def test_hostile_pickle_is_refused_without_being_unpickled(tmp_path: Path, protocol: int) -> None:
    proof, marker = tmp_path / "proof", tmp_path / "marker"
    pickle.loads(pickle.dumps(_CreatesMarker(proof), protocol=protocol)).close()
    assert proof.exists(), "the payload must really run code when unpickled"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_CreatesMarker(marker), protocol=protocol))
    with pytest.raises(PickleRefused):
        detect_format(path)
    assert not marker.exists()


def test_hostile_pickle_inside_a_torch_zip_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "weights.pt2"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(_CreatesMarker(marker), protocol=2))
        archive.writestr("archive/version", "3\n")
    with pytest.raises(PickleRefused):
        detect_format(path)
    assert not marker.exists()


def test_legacy_torch_save_is_refused(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "legacy.onnx"
    torch.save({"w": torch.zeros(3)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(PickleRefused):
        detect_format(path)


@pytest.mark.parametrize("attr", ["onnx", "safetensors", "pt2", "torchscript"])
def test_truncated_files_are_unsupported(
    model_files: ModelFiles,
    tmp_path: Path,
    attr: str,
) -> None:
    data = getattr(model_files, attr).read_bytes()
    path = tmp_path / "truncated"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsupportedFormat):
        detect_format(path)


@pytest.mark.parametrize(
    "content",
    [
        random.Random(1).randbytes(4096),
        b"hello, this is not a model\n",
        b"\x08\x07",
        b"{}",
        b"\x00" * 64,
    ],
    ids=["random", "text", "protobuf-without-graph", "json", "zeros"],
)
def test_garbage_is_unsupported_and_lists_accepted_formats(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(UnsupportedFormat) as info:
        detect_format(path)
    assert not isinstance(info.value, PickleRefused)
    assert "ONNX" in str(info.value)


def test_empty_file_has_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"")
    with pytest.raises(UnsupportedFormat, match="empty"):
        detect_format(path)


def test_other_zip_archives_are_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "model.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "weights elsewhere")
    with pytest.raises(UnsupportedFormat, match="zip archive"):
        detect_format(path)


def test_safetensors_header_out_of_bounds_is_refused(tmp_path: Path) -> None:
    header = b'{"w":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]}}'
    path = tmp_path / "model.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\x00" * 16)
    with pytest.raises(UnsupportedFormat, match="out of bounds"):
        detect_format(path)


def test_safetensors_param_count_reads_the_header(model_files: ModelFiles) -> None:
    expected = sum(t.numel() for t in model_files.module.state_dict().values())
    assert safetensors_param_count(model_files.safetensors) == expected


def test_onnx_is_parsed_not_guessed(tmp_path: Path) -> None:
    """A protobuf-looking prefix followed by junk is not accepted as ONNX."""
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x07\x12\x07pytorch" + random.Random(0).randbytes(256))
    with pytest.raises(UnsupportedFormat):
        detect_format(path)
