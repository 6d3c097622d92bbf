"""The trust boundary, tested as a student who wants a better score or a free retry would.

Each model here runs a Python payload inside the child at load time (``tests.evaluator.hostile``)
and attacks the parent: links and special files in the output directory, claimed platform
faults, a search for a labelled copy of the test set, spoofed figures, memory spread over
processes, a process flood and a disk flood. Every case must end in a model error or a correct
score, leave nothing behind on the host, and leave the worker able to score the next model.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from evaluator import layout
from evaluator.errors import (
    EvaluatorError,
    ModelCheckError,
    ModelCrashed,
    ModelLoadError,
    ModelMemoryError,
)
from evaluator.formats.base import ModelFormat
from evaluator.sandbox import bwrap, cgroup
from evaluator.sandbox.runner import ChildOutput, run_model
from evaluator.scoring import score
from leaderboard.errors import PLATFORM_ERROR_CODES
from tests.evaluator import hostile
from tests.evaluator.sandbox_helpers import child_python_pids, requires_bwrap

pytestmark = pytest.mark.timeout(300)

FASHION = Path("/usr/share/datasets/fashion-mnist")
SANDBOXES = ["bwrap", "none"]  # "none": the reader alone must hold, without bubblewrap


def _run(
    model: Path,
    dataset: Path,
    *,
    sandbox: str = "bwrap",
    fmt: ModelFormat = ModelFormat.TORCH_EXPORT,
    **kwargs,
) -> ChildOutput:
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


@pytest.fixture(autouse=True)
def nothing_left_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No temporary directory, control group or child process survives a case."""
    private_tmp = tmp_path / "host-tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    yield
    assert list(private_tmp.iterdir()) == []
    assert _our_groups() == set()
    assert child_python_pids() == []


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


# 3. No labelled copy of any test set is inside the sandbox.


def _labelled_sources(tiny_dataset: Path) -> dict[str, tuple[int, str]]:
    """size and SHA-256 of every labelled source the host holds for the demo sets."""
    candidates = [layout.labels_dir(tiny_dataset) / layout.LABELS_FILE]
    candidates += sorted(FASHION.glob("*")) if FASHION.is_dir() else []
    try:
        import sklearn

        candidates += sorted((Path(sklearn.__file__).parent / "datasets" / "data").glob("*"))
    except ImportError:
        pass
    return {
        str(p): (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in candidates
        if p.is_file() and p.suffix != ".py"  # data, not the package's own code
    }


@requires_bwrap
def test_no_labelled_copy_of_a_test_set_is_visible_inside(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    sources = _labelled_sources(tiny_dataset)
    assert any("digits" in s for s in sources) or any("fashion" in s for s in sources)
    wanted = {size: digest for size, digest in sources.values() if size > 0}
    names = sorted({Path(p).name for p in sources})
    model = hostile.pt2_payload(
        tmp_path / "search.pt2",
        f"""
        import hashlib
        wanted = {wanted!r}
        names = {names!r}
        hits, seen = [], 0
        for top in ("/",):
            for root, dirs, files in os.walk(top):
                if root in ("/proc", "/sys", "/dev"):
                    dirs[:] = []
                    continue
                for name in files:
                    path = os.path.join(root, name)
                    seen += 1
                    try:
                        size = os.stat(path).st_size
                        if name in names:
                            hits.append(path)
                        elif size in wanted:
                            data = open(path, "rb").read()
                            if hashlib.sha256(data).hexdigest() in wanted.values():
                                hits.append(path)
                    except OSError:
                        pass
        report(json.dumps({{"hits": hits, "seen": seen,
                            "share": os.path.exists("/usr/share/datasets")}}))
        """,
    )
    with pytest.raises(ModelLoadError) as info:
        _run(model, tiny_dataset)
    found = _json_message(info.value)
    assert found["seen"] > 1000, "the search must really have walked the file system"
    assert found["hits"] == [] and found["share"] is False, found


def test_the_packaged_data_sets_and_usr_share_are_not_bound() -> None:
    support = bwrap.BwrapSupport(path="bwrap", user_namespace=False)
    argv = bwrap.build_argv(support=support, command=["true"], binds=[], env={})
    bound = [argv[i + 2] for i, a in enumerate(argv[:-2]) if a in ("--ro-bind", "--bind")]
    assert "/usr" not in bound and not any(b.startswith("/usr/share") for b in bound)
    hidden = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--tmpfs"]
    import sklearn

    assert str(Path(sklearn.__file__).parent / "datasets" / "data") in hidden


# 4. Figures the model reports about itself.


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


# 5. Caps for the whole run, not per process.


def _needs_cgroup() -> None:
    group, word = cgroup.create_run_group(memory_mb=64, pids_max=8)
    if group is None:
        pytest.skip(f"no control group can be made here ({word})")
    group.remove()


@requires_bwrap
def test_memory_spread_over_processes_hits_the_runs_cap(tiny_dataset: Path, tmp_path: Path) -> None:
    _needs_cgroup()
    model = hostile.pt2_payload(
        tmp_path / "spread.pt2",
        """
        import subprocess
        hold = "import time; block = b'\\x01' * (1000 << 20); time.sleep(60)"
        kids = [subprocess.Popen([sys.executable, "-c", hold]) for _ in range(4)]
        for kid in kids:  # 4 x 1000 MB, each far under the per-process cap of 3.5 GB
            kid.wait()
        report("all four processes kept their memory")
        """,
    )
    with pytest.raises(ModelMemoryError, match="memory cap"):
        _run(model, tiny_dataset, memory_mb=3500)


@requires_bwrap
def test_process_flood_stops_at_the_runs_cap(tiny_dataset: Path, tmp_path: Path) -> None:
    _needs_cgroup()
    model = hostile.pt2_payload(
        tmp_path / "flood.pt2",
        """
        import time
        started = 0
        for _ in range(2000):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            started += 1
        report(f"started {started}")
        """,
    )
    with pytest.raises(ModelLoadError) as info:
        _run(model, tiny_dataset, pids_max=64)
    started = int(info.value.message.split()[-1])
    assert 0 < started < 64


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_disk_flood_is_bounded_and_removed(tiny_dataset: Path, tmp_path: Path, sandbox: str):
    model = hostile.pt2_payload(
        tmp_path / "disk.pt2",
        """
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        written = {}
        chunk = b"\\0" * (1 << 20)
        for i in range(12):
            for target in (os.path.join(OUT, f"flood-{i}.bin"), os.path.join(OUT, "logits.npy")):
                total = 0
                try:
                    with open(target, "ab") as f:
                        for _ in range(200):
                            f.write(chunk)
                            f.flush()
                            total += len(chunk)
                except OSError:
                    pass
                written[target] = total
        report(json.dumps({"total": sum(written.values())}))
        """,
    )
    with pytest.raises(ModelLoadError) as info:
        _run(model, tiny_dataset, sandbox=sandbox)
    total = _json_message(info.value)["total"]
    if sandbox == "bwrap":  # only the pre-created files, each under the file-size cap
        assert total <= 64 << 20, total
    else:  # no read-only directory without bubblewrap: the per-file cap still holds
        assert total <= 13 * (64 << 20)


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


def _json_message(error: EvaluatorError) -> dict:
    import json

    return json.loads(error.message)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_run_is_under_the_runs_memory_cap_too(tiny_dataset: Path, tmp_path: Path) -> None:
    """A CUDA run gets no address-space cap (the driver reserves far more than it uses), so
    the group is what holds its host memory: here, 4 GB touched after CUDA starts."""
    _needs_cgroup()
    model = hostile.pt2_payload(
        tmp_path / "cuda-hog.pt2",
        """
        import torch
        torch.zeros(1, device="cuda")
        block = b"\\x01" * (4096 << 20)
        report("kept 4 GB of host memory beside a CUDA context")
        """,
    )
    with pytest.raises(ModelMemoryError, match="memory cap"):
        _run(model, tiny_dataset, memory_mb=3500, device="cuda")
