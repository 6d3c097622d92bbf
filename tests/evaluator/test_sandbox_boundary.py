"""The trust boundary, tested as a student who wants a better score or a free retry would:
what the child hands back.

Each model here runs a Python payload inside the child at load time (``tests.evaluator.hostile``)
and attacks the parent: links and special files in the output directory, claimed platform
faults and spoofed figures. Every case must end in a model error or a correct score, leave
nothing behind on the host, and leave the worker able to score the next model. What the child
can see and use inside: test_sandbox_boundary_reach.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from evaluator import layout
from evaluator.errors import EvaluatorError, ModelCheckError, ModelCrashed, ModelLoadError
from evaluator.formats.base import ModelFormat
from evaluator.sandbox import bwrap
from evaluator.sandbox.runner import run_model
from evaluator.scoring import score
from leaderboard.errors import PLATFORM_ERROR_CODES
from tests.evaluator import hostile
from tests.evaluator.boundary_helpers import SANDBOXES, host_left_clean
from tests.evaluator.boundary_helpers import json_message as _json_message
from tests.evaluator.boundary_helpers import run as _run
from tests.evaluator.sandbox_helpers import requires_bwrap

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def nothing_left_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No temporary directory, control group or child process survives a case."""
    with host_left_clean(tmp_path, monkeypatch):
        yield


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """Another submission's logits on the host: perfect answers for the tiny set."""
    path = tmp_path / "victim" / "shard-logits.npy"
    path.parent.mkdir()
    np.save(path, np.eye(10, dtype=np.float32)[np.zeros(64, dtype=int)])
    return path


# 1. Links and special files in the output directory.


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_logits_swapped_for_a_symlink_to_another_runs_result(
    tiny_dataset: Path, tmp_path: Path, victim: Path, sandbox: str
) -> None:
    model = hostile.pt2_payload(
        tmp_path / "link.pt2",
        f"""
        target = os.path.join(OUT, "logits.npy")
        try:
            os.unlink(target)
            os.symlink({str(victim)!r}, target)
        except OSError:
            pass
        open(os.path.join(OUT, "info.json"), "w").write("{{}}")
        os._exit(0)
        """,
    )
    with pytest.raises(ModelCheckError) as info:
        _run(model, tiny_dataset, sandbox=sandbox)
    assert "symbolic link" in str(info.value) or "empty" in str(info.value)


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_logits_hard_linked_to_another_runs_result(
    tiny_dataset: Path, tmp_path: Path, victim: Path, sandbox: str
) -> None:
    model = hostile.pt2_payload(
        tmp_path / "hardlink.pt2",
        f"""
        target = os.path.join(OUT, "logits.npy")
        try:
            os.unlink(target)
            os.link({str(victim)!r}, target)
        except OSError:
            pass
        open(os.path.join(OUT, "info.json"), "w").write("{{}}")
        os._exit(0)
        """,
    )
    with pytest.raises(ModelCheckError) as info:
        _run(model, tiny_dataset, sandbox=sandbox)
    assert "hard link" in str(info.value) or "empty" in str(info.value)


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_error_report_left_as_a_fifo_does_not_block_the_parent(
    tiny_dataset: Path, tmp_path: Path, sandbox: str
) -> None:
    model = hostile.pt2_payload(
        tmp_path / "fifo.pt2",
        """
        target = os.path.join(OUT, "error.json")
        try:
            os.unlink(target)
            os.mkfifo(target)
        except OSError:
            pass
        os._exit(3)
        """,
    )
    start = time.monotonic()
    with pytest.raises(ModelCrashed, match="status 3"):
        _run(model, tiny_dataset, sandbox=sandbox)
    assert time.monotonic() - start < 60


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_report_linked_to_a_device_is_not_read(
    tiny_dataset: Path, tmp_path: Path, sandbox: str
) -> None:
    """info.json -> /dev/zero would grow the parent's memory without bound if it were read."""
    model = hostile.pt2_payload(
        tmp_path / "device.pt2",
        """
        import numpy as np
        np.save(os.path.join(OUT, "logits.npy"), np.zeros((64, 10), np.float32))
        for name in ("info.json", "error.json"):
            try:
                os.unlink(os.path.join(OUT, name))
                os.symlink("/dev/zero", os.path.join(OUT, name))
            except OSError:
                pass
        os._exit(0)
        """,
    )
    with pytest.raises(ModelCrashed, match="without a report"):
        _run(model, tiny_dataset, sandbox=sandbox)


def test_output_directory_is_read_only_but_for_its_files(tiny_dataset: Path, tmp_path: Path):
    model = hostile.pt2_payload(
        tmp_path / "probe.pt2",
        """
        found = {}
        for action, call in [
            ("create", lambda: open(os.path.join(OUT, "extra.bin"), "w")),
            ("unlink", lambda: os.unlink(os.path.join(OUT, "logits.npy"))),
            ("rename", lambda: os.rename(os.path.join(OUT, "info.json"), OUT + "/x")),
            ("mkfifo", lambda: os.mkfifo(os.path.join(OUT, "pipe"))),
            ("mknod", lambda: os.mknod(os.path.join(OUT, "zero"), 0o666 | 0o020000, 0x105)),
        ]:
            try:
                call()
                found[action] = "allowed"
            except OSError as exc:
                found[action] = exc.__class__.__name__
        open(os.path.join(OUT, "logits.npy"), "wb").write(b"x")
        found["write own file"] = "allowed"
        report(json.dumps(found))
        """,
    )
    with pytest.raises(ModelLoadError) as info:
        _run(model, tiny_dataset)
    found = _json_message(info.value)
    assert found.pop("write own file") == "allowed"
    assert "allowed" not in found.values(), found


# 2. Claimed platform faults: the site refunds those, so the child may not claim them.


@pytest.mark.parametrize("carrier", sorted(hostile.CARRIERS))
@pytest.mark.parametrize("code", sorted(PLATFORM_ERROR_CODES))
def test_claimed_platform_fault_is_a_model_error(
    tiny_dataset: Path, tmp_path: Path, carrier: str, code: str
) -> None:
    model = hostile.CARRIERS[carrier](
        tmp_path / f"claim.{carrier}", f"report('the worker is broken', code={code!r})"
    )
    fmt = ModelFormat.TORCH_EXPORT if carrier == "pt2" else ModelFormat.TORCHSCRIPT
    with pytest.raises(EvaluatorError) as info:
        _run(model, tiny_dataset, fmt=fmt)
    assert info.value.code not in PLATFORM_ERROR_CODES
    if carrier == "torchscript":  # TorchScript's unpickler refuses the payload unrun
        assert isinstance(info.value, ModelLoadError)
        assert "the worker is broken" not in info.value.message


@requires_bwrap
def test_printing_like_bubblewrap_is_not_a_sandbox_failure(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    model = hostile.pt2_payload(
        tmp_path / "bwrap-says.pt2",
        """
        sys.stderr.write("bwrap: Can't mount proc on /newroot/proc: Operation not permitted\\n")
        sys.stderr.flush()
        os._exit(1)
        """,
    )
    with pytest.raises(ModelCrashed, match="status 1") as info:
        _run(model, tiny_dataset)
    assert info.value.code not in PLATFORM_ERROR_CODES


# 3. Figures the model reports about itself.


@requires_bwrap
def test_spoofed_params_and_throughput_are_not_recorded(tiny_dataset: Path, tmp_path: Path) -> None:
    model = hostile.pt2_payload(
        tmp_path / "spoof.pt2",
        """
        import numpy as np
        np.save(os.path.join(OUT, "logits.npy"), np.zeros((64, 10), np.float32))
        info = {"params": 1, "images_per_second": 1e12, "seconds": 1e-9, "batch_size": 64,
                "device_name": "a very fast GPU", "precision": "fp32"}
        open(os.path.join(OUT, "info.json"), "w").write(json.dumps(info))
        os._exit(0)
        """,
    )
    result = score(dataset_dir=tiny_dataset, model_path=model, timeout_s=120)
    assert result["params"] != 1 and result["params"] == 28 * 28 * 10 + 10
    assert result["throughput_img_s"] < 1e6
    assert result["n_images"] == 64  # scored by the parent: zeros rank class 0 first
    labels = np.load(layout.labels_dir(tiny_dataset) / layout.LABELS_FILE)
    assert result["top1_error"] == pytest.approx(float(np.mean(labels != 0)))


# Afterwards the worker still scores.


def test_the_next_model_still_scores(model_files, tiny_dataset: Path) -> None:
    result = run_model(
        model_path=model_files.pt2,
        fmt=ModelFormat.TORCH_EXPORT,
        arch=None,
        images_dir=layout.images_dir(tiny_dataset),
        num_classes=10,
        timeout_s=120,
    )
    assert result.logits.shape == (64, 10) and np.isfinite(result.logits).all()
    if bwrap.probe() is not None and os.geteuid() == 0:
        assert result.cgroup in ("v1", "v2")
