"""The trust boundary, tested as a student would: what a hostile model can see and use inside.

Each model here runs a Python payload inside the child at load time (``tests.evaluator.hostile``):
a search of the whole visible file system for a labelled copy of the test set, memory spread
over processes (also beside a CUDA context), a process flood and a disk flood. Every case must
end in a model error and leave nothing behind on the host. What the child hands back:
test_sandbox_boundary.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from evaluator import layout
from evaluator.errors import ModelLoadError, ModelMemoryError
from evaluator.sandbox import bwrap, cgroup
from tests.evaluator import hostile
from tests.evaluator.boundary_helpers import SANDBOXES, host_left_clean
from tests.evaluator.boundary_helpers import json_message as _json_message
from tests.evaluator.boundary_helpers import run as _run
from tests.evaluator.sandbox_helpers import requires_bwrap

pytestmark = pytest.mark.timeout(300)

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def nothing_left_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No temporary directory, control group or child process survives a case."""
    with host_left_clean(tmp_path, monkeypatch):
        yield


# 1. No labelled copy of any test set is inside the sandbox.


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


# 2. Caps for the whole run, not per process.


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
