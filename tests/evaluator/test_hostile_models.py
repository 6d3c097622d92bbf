"""Hostile or broken models (real TorchScript files) fail cleanly and leave the worker usable."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import List  # noqa: UP035 - TorchScript needs typing.List

import pytest
import torch
from torch import nn

from evaluator import layout
from evaluator.errors import ModelCheckError, ModelCrashed, ModelMemoryError, ModelTimeout
from evaluator.formats.base import ModelFormat
from evaluator.sandbox.runner import ChildOutput, run_model
from tests.evaluator.models import ModelFiles
from tests.evaluator.sandbox_helpers import child_python_pids

pytestmark = pytest.mark.timeout(300)


class Spin(nn.Module):
    """Never returns."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = 0
        while n >= 0:
            n = n + 1
        return x.flatten(1)[:, :10]


class Hog(nn.Module):
    """Reserves 1 GiB after 1 GiB until something gives."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keep: List[torch.Tensor] = []  # noqa: UP006
        for i in range(1024):  # sizes differ so that the JIT cannot reuse one tensor
            keep.append(torch.empty((1 << 28) + i))
        return x.flatten(1)[:, :10] + keep[-1][0]


class WrongShape(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros([x.shape[0], 7])


class AllNaN(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full([x.shape[0], 10], float("nan"))


class Chatty(nn.Module):
    """Floods stdout (about 4 MB per batch), then answers correctly."""

    def __init__(self) -> None:
        super().__init__()
        self.line = "spam " * 200

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(4000):
            print(self.line)
        return x.flatten(1)[:, :10] * 2.0


def _script(module: nn.Module, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.script(module).save(str(path))
    return path


def _run(model: Path, dataset: Path, **kwargs) -> ChildOutput:
    options = {"timeout_s": 180, "batch_size": 64} | kwargs
    return run_model(
        model_path=model,
        fmt=ModelFormat.TORCHSCRIPT,
        arch=None,
        images_dir=layout.images_dir(dataset),
        num_classes=10,
        **options,
    )


@contextlib.contextmanager
def _killing_child(sig: signal.Signals, *, after_s: float) -> Iterator[None]:
    """Send ``sig`` to the child's Python process once it has run ``after_s`` seconds."""
    stop = threading.Event()

    def kill() -> None:
        while not stop.is_set():
            if child_python_pids():
                if stop.wait(after_s):
                    return
                for pid in child_python_pids():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, sig)
                return
            stop.wait(0.1)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_infinite_loop_times_out_and_the_next_model_scores(
    model_files: ModelFiles,
    tiny_dataset: Path,
    tmp_path: Path,
) -> None:
    start = time.monotonic()
    with pytest.raises(ModelTimeout, match="12 s"):
        _run(_script(Spin(), tmp_path / "spin.pt"), tiny_dataset, timeout_s=12)
    assert time.monotonic() - start < 25
    assert child_python_pids() == []  # the whole process tree is gone
    result = run_model(
        model_path=model_files.onnx,
        fmt=ModelFormat.ONNX,
        arch=None,
        images_dir=layout.images_dir(tiny_dataset),
        num_classes=10,
        timeout_s=180,
    )
    assert result.logits.shape == (64, 10)


def test_memory_blow_up_is_a_memory_error(tiny_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelMemoryError) as info:
        _run(_script(Hog(), tmp_path / "hog.pt"), tiny_dataset, memory_mb=5000)
    assert info.value.code == "memory_limit"
    assert "memory" in str(info.value)


def test_death_by_signal_is_a_crash_naming_it(tiny_dataset: Path, tmp_path: Path) -> None:
    with _killing_child(signal.SIGSEGV, after_s=2.0), pytest.raises(ModelCrashed, match="SIGSEGV"):
        _run(_script(Spin(), tmp_path / "spin.pt"), tiny_dataset, timeout_s=150)


def test_killed_child_may_have_run_out_of_memory(tiny_dataset: Path, tmp_path: Path) -> None:
    with (
        _killing_child(signal.SIGKILL, after_s=2.0),
        pytest.raises(ModelMemoryError, match=r"SIGKILL.*out of memory"),
    ):
        _run(_script(Spin(), tmp_path / "spin.pt"), tiny_dataset, timeout_s=150)


def test_wrong_output_shape_is_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelCheckError, match=r"\[64, 10\]") as info:
        _run(_script(WrongShape(), tmp_path / "shape.pt"), tiny_dataset)
    assert info.value.code == "model_check_failed"


def test_all_nan_output_is_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelCheckError, match="NaN"):
        _run(_script(AllNaN(), tmp_path / "nan.pt"), tiny_dataset)


def test_output_flood_is_capped_and_scoring_goes_on(tiny_dataset: Path, tmp_path: Path) -> None:
    result = _run(_script(Chatty(), tmp_path / "chatty.pt"), tiny_dataset)
    assert result.logits.shape == (64, 10)
