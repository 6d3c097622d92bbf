"""Helpers for the trust-boundary tests: run a hostile model, and check the host is left clean."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from evaluator import layout
from evaluator.errors import EvaluatorError
from evaluator.formats.base import ModelFormat
from evaluator.sandbox import bwrap, cgroup
from evaluator.sandbox.runner import ChildOutput, run_model
from tests.evaluator.sandbox_helpers import child_python_pids

SANDBOXES = ["bwrap", "none"]  # "none": the reader alone must hold, without bubblewrap


def run(
    model: Path,
    dataset: Path,
    *,
    sandbox: str = "bwrap",
    fmt: ModelFormat = ModelFormat.TORCH_EXPORT,
    **kwargs,
) -> ChildOutput:
    """Run ``model`` on the images of ``dataset`` in the child; skip if bubblewrap cannot run."""
    if sandbox == "bwrap" and bwrap.probe() is None:
        pytest.skip("bubblewrap cannot run here")
    options = {"timeout_s": 120, "batch_size": 64, "memory_mb": 4096} | kwargs
    return run_model(
        model_path=model,
        fmt=fmt,
        arch=None,
        images_dir=layout.images_dir(dataset),
        num_classes=10,
        sandbox=sandbox,
        **options,
    )


def _our_groups() -> set[str]:
    """Control groups this test process made (their names carry the maker's pid)."""
    pattern = f"{cgroup.PREFIX}{os.getpid()}-*"
    return {
        str(p)
        for hierarchy in ("memory", "pids", "")
        if (cgroup.CGROUP_ROOT / hierarchy).is_dir()
        for p in (cgroup.CGROUP_ROOT / hierarchy).rglob(pattern)
    }


@contextmanager
def host_left_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Temporary files go to a private directory; afterwards it, the control groups this
    process made and its sandboxed children must all be gone."""
    private_tmp = tmp_path / "host-tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    yield
    assert list(private_tmp.iterdir()) == []
    assert _our_groups() == set()
    assert child_python_pids() == []


def json_message(error: EvaluatorError) -> dict:
    return json.loads(error.message)
