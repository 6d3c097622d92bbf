"""The scoring loop: correct logits, pre-scoring checks, batch-size fallback (CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torchvision
from torch import nn

from evaluator.errors import ModelCheckError
from evaluator.formats.base import LoadedModel, ModelFormat
from evaluator.inference import effective_precision, run_inference
from evaluator.spec import InputSpec

SPEC = InputSpec(channels=3, height=32, width=32, mean=(0.4, 0.5, 0.6), std=(0.2, 0.25, 0.3))


def images(n: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)


def normalised(x: np.ndarray) -> torch.Tensor:
    """Independent normalisation: the textbook (x/255 - mean) / std."""
    t = torch.from_numpy(x).float() / 255.0
    mean = torch.tensor(SPEC.mean).view(1, 3, 1, 1)
    std = torch.tensor(SPEC.std).view(1, 3, 1, 1)
    return (t - mean) / std


def torch_model(module: nn.Module) -> LoadedModel:
    return LoadedModel(kind="torch", format=ModelFormat.TORCHSCRIPT, module=module.eval())


def run(model: LoadedModel, x: np.ndarray, *, num_classes: int = 10, batch_size: int = 16):
    return run_inference(
        model=model,
        images=x,
        spec=SPEC,
        num_classes=num_classes,
        device="cpu",
        batch_size=batch_size,
        precision="fp32",
    )


def test_logits_equal_a_plain_forward_pass() -> None:
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=10).eval()
    x = images()
    result = run(torch_model(net), x)
    with torch.no_grad():
        expected = net(normalised(x)).numpy()
    assert result.logits.shape == (40, 10)
    assert result.logits.dtype == np.float32
    np.testing.assert_allclose(result.logits, expected, rtol=1e-4, atol=1e-4)
    assert result.n_nonfinite == 0
    assert result.images_per_second > 0


class FailsAboveBatch(nn.Module):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.fc = nn.Linear(3 * 32 * 32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > self.limit:
            raise RuntimeError("batch too large for this model")
        return self.fc(x.flatten(1))


def test_falls_back_to_a_batch_size_the_model_accepts() -> None:
    net = FailsAboveBatch(limit=5)
    x = images(23)
    result = run(torch_model(net), x, batch_size=64)
    assert result.batch_size <= 5
    with torch.no_grad():
        expected = net.fc(normalised(x).flatten(1)).numpy()
    np.testing.assert_allclose(result.logits, expected, rtol=1e-5, atol=1e-5)


class Constant(nn.Module):
    def __init__(self, out: torch.Tensor | tuple) -> None:
        super().__init__()
        self.out = out

    def forward(self, x: torch.Tensor):
        if isinstance(self.out, tuple):
            return tuple(o.expand(x.shape[0], -1) for o in self.out)
        return self.out.expand(x.shape[0], *self.out.shape[1:])


def test_wrong_output_shape_is_named() -> None:
    with pytest.raises(ModelCheckError, match=r"output shape is \[16, 7\].*expected \[16, 10\]"):
        run(torch_model(Constant(torch.zeros(1, 7))), images())


def test_tuple_output_is_refused() -> None:
    out = (torch.zeros(1, 10), torch.zeros(1, 10))
    with pytest.raises(ModelCheckError, match="returned tuple"):
        run(torch_model(Constant(out)), images())


def test_all_nan_output_is_refused() -> None:
    with pytest.raises(ModelCheckError, match="NaN or infinite"):
        run(torch_model(Constant(torch.full((1, 10), float("nan")))), images())


class NanOnDarkImages(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = x.mean(dim=(2, 3)).repeat(1, 4)[:, :10]
        dark = x.mean(dim=(1, 2, 3)) < 0
        logits[dark] = float("nan")
        return logits


def test_some_nan_rows_are_counted_not_fatal() -> None:
    x = images(50)
    x[::5] = 0  # very dark images give NaN rows
    result = run(torch_model(NanOnDarkImages()), x)
    assert result.n_nonfinite == 10


def test_model_that_always_fails_gets_its_error_named() -> None:
    class Broken(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise ValueError("expected 1 channel")

    with pytest.raises(ModelCheckError, match=r"shape \[1, 3, 32, 32\].*expected 1 channel"):
        run(torch_model(Broken()), images())


def test_onnx_with_a_static_batch_axis_is_padded(tmp_path: Path) -> None:
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
    path = tmp_path / "static.onnx"
    torch.onnx.export(net.eval(), (torch.zeros(4, 3, 32, 32),), str(path), dynamo=False)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model = LoadedModel(
        kind="onnx",
        format=ModelFormat.ONNX,
        session=session,
        input_name=session.get_inputs()[0].name,
        fixed_batch=4,
    )
    x = images(10)  # 10 is not a multiple of 4: the last batch is padded
    result = run(model, x)
    with torch.no_grad():
        expected = net(normalised(x)).numpy()
    np.testing.assert_allclose(result.logits, expected, rtol=1e-4, atol=1e-4)
    assert result.batch_size == 4


def test_cpu_always_runs_fp32() -> None:
    assert effective_precision(device="cpu", precision="bf16") == "fp32"
    assert effective_precision(device="cuda", precision="bf16") == "bf16"
    with pytest.raises(ValueError, match="precision"):
        effective_precision(device="cpu", precision="fp8")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("resident", [True, False])
def test_cuda_paths_match_the_cpu(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, resident: bool
) -> None:
    import evaluator.inference.loop as inference

    monkeypatch.setattr(inference, "RESIDENT_FRACTION", 1.0 if resident else 0.0)
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=10).eval()
    np.save(tmp_path / "x.npy", images(300))
    x = np.load(tmp_path / "x.npy", mmap_mode="r")
    cpu = run(torch_model(net), x).logits
    chunk = 3 * 32 * 32 * 64 * 2  # several chunks
    monkeypatch.setattr("evaluator.inference.staging.CHUNK_BYTES", chunk)
    gpu = run_inference(
        model=torch_model(net.cuda()),
        images=x,
        spec=SPEC,
        num_classes=10,
        device="cuda",
        batch_size=64,
        precision="fp32",
    )
    assert gpu.resident is resident
    np.testing.assert_allclose(gpu.logits, cpu, rtol=1e-2, atol=1e-2)


def test_staging_reader_reads_the_memory_mapped_file_exactly(tmp_path: Path) -> None:
    from evaluator.inference.staging import _reader, chunk_images

    x = images(37)
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    read = _reader(mm)
    assert hasattr(read, "fd")  # the pread path, not the copy fallback
    buf = np.zeros((20, 3, 32, 32), dtype=np.uint8)
    read(buf, 17, 37)
    assert np.array_equal(buf, x[17:37])
    assert chunk_images(x.shape, 16) % 16 == 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bf16_agrees_with_fp32(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=10).eval().cuda()
    np.save(tmp_path / "x.npy", images(500))
    x = np.load(tmp_path / "x.npy", mmap_mode="r")
    runs = {
        p: run_inference(
            model=torch_model(net),
            images=x,
            spec=SPEC,
            num_classes=10,
            device="cuda",
            batch_size=64,
            precision=p,
        )
        for p in ("fp32", "bf16")
    }
    assert runs["bf16"].precision == "bf16"
    agree = (runs["bf16"].logits.argmax(1) == runs["fp32"].logits.argmax(1)).mean()
    assert agree > 0.9


def test_cpu_allocator_failure_is_a_memory_error() -> None:
    from evaluator.errors import ModelMemoryError

    class Hungry(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: "
                "can't allocate memory: you tried to allocate 400000000000 bytes."
            )

    with pytest.raises(ModelMemoryError, match="can't allocate memory"):
        run(torch_model(Hungry()), images(), batch_size=1)
