"""Warm, single-use sandboxes (``evaluator.sandbox.pool``), with real bubblewrap.

A warm child is started before its job and takes exactly one. Two jobs must still run in two
sandboxes that share nothing; a child that died or aged out, or was started for another set,
is never used; a child that cannot take its job leaves it to a cold start; the time limit
counts from the hand-over; and the results are the cold path's, exactly.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from evaluator import layout
from evaluator.errors import ModelLoadError, ModelTimeout
from evaluator.formats.base import ModelFormat
from evaluator.sandbox import pool
from evaluator.sandbox.pool import WarmChild, WarmPool
from evaluator.sandbox.runner import run_model
from tests.evaluator import hostile
from tests.evaluator.boundary_helpers import host_left_clean, json_message
from tests.evaluator.conftest import write_compiled_dataset
from tests.evaluator.models import ModelFiles
from tests.evaluator.sandbox_helpers import descendants, requires_bwrap

pytestmark = [pytest.mark.timeout(300), requires_bwrap]

# Reports its sandbox: namespaces, its /tmp, and leaves a file there for the next job to find.
WHERE_AM_I = """
import time
seen = sorted(os.listdir("/tmp"))
open("/tmp/left-by-the-last-model", "w").write("secret")
ns = {n: os.readlink("/proc/self/ns/" + n) for n in ("pid", "mnt", "net", "ipc", "uts")}
report(json.dumps({"ns": ns, "tmp": seen, "pid": os.getpid(), "at": time.time()}))
"""


def warm_pids() -> list[int]:
    """Warm children (``evaluator.sandbox.warm``) this test process started and did not end."""
    found = []
    for pid in descendants(os.getpid()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0] == os.fsencode(sys.executable) and b"evaluator.sandbox.warm" in argv:
            found.append(pid)
    return found


@pytest.fixture
def warm_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WarmPool]:
    """This process keeps one warm child; afterwards no child, slot or group is left."""
    with host_left_clean(tmp_path, monkeypatch):
        active = pool.configure(size=1)
        assert active is not None
        try:
            yield active
        finally:
            pool.configure(size=0)
            assert warm_pids() == []


def run(model: Path, dataset: Path, *, fmt: ModelFormat, **kwargs):
    options = {"timeout_s": 120, "batch_size": 64, "memory_mb": 4096, "sandbox": "bwrap"}
    return run_model(
        model_path=model,
        fmt=fmt,
        arch=kwargs.pop("arch", None),
        images_dir=layout.images_dir(dataset),
        num_classes=10,
        **(options | kwargs),
    )


def where(model: Path, dataset: Path) -> dict:
    with pytest.raises(ModelLoadError) as info:
        run(model, dataset, fmt=ModelFormat.TORCH_EXPORT)
    return json_message(info.value)


def wait_until_ready(active: WarmPool) -> WarmChild:
    assert len(active.children) == 1, "the next child starts during the job"
    child = active.children[0]
    assert child.ready(wait_s=120)
    return child


def test_two_jobs_run_in_two_sandboxes_that_share_nothing(
    warm_pool: WarmPool, tiny_dataset: Path, tmp_path: Path
) -> None:
    model = hostile.pt2_payload(tmp_path / "where.pt2", WHERE_AM_I)
    first = where(model, tiny_dataset)
    waiting = wait_until_ready(warm_pool)
    second = where(model, tiny_dataset)
    assert warm_pool.served == {"warm": 1, "on_demand": 1, "cold": 0}
    assert waiting not in warm_pool.children, "a child takes one job and is gone"
    for name in ("pid", "mnt", "net", "ipc", "uts"):
        assert first["ns"][name] != second["ns"][name], name
    assert "left-by-the-last-model" not in first["tmp"]
    assert "left-by-the-last-model" not in second["tmp"], "the first job's /tmp is gone"


def test_warm_results_equal_the_cold_paths_exactly(
    tiny_dataset: Path, model_files: ModelFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [
        (model_files.onnx, ModelFormat.ONNX, None),
        (model_files.safetensors, ModelFormat.SAFETENSORS, model_files.arch),
    ]
    cold = [run(m, tiny_dataset, fmt=f, arch=a) for m, f, a in cases]
    with host_left_clean(tmp_path, monkeypatch):
        active = pool.configure(size=1)
        try:
            warm = [run(m, tiny_dataset, fmt=f, arch=a) for m, f, a in cases]
            wait_until_ready(active)
            warm.append(run(*cases[0][:1], tiny_dataset, fmt=cases[0][1]))
        finally:
            pool.configure(size=0)
    assert active.served["cold"] == 0 and active.served["warm"] >= 1
    for before, after in zip([*cold, cold[0]], warm, strict=True):
        np.testing.assert_array_equal(before.logits, after.logits)
        assert before.sandbox == after.sandbox == "bwrap"
        timings = ("seconds", "images_per_second")
        assert {k: v for k, v in before.info.items() if k not in timings} == {
            k: v for k, v in after.info.items() if k not in timings
        }


def test_a_child_killed_before_its_job_is_never_used(
    warm_pool: WarmPool, tiny_dataset: Path, model_files: ModelFiles
) -> None:
    expected = run(model_files.onnx, tiny_dataset, fmt=ModelFormat.ONNX).logits
    child = wait_until_ready(warm_pool)
    os.killpg(child.confined.proc.pid, signal.SIGKILL)
    child.confined.proc.wait()
    again = run(model_files.onnx, tiny_dataset, fmt=ModelFormat.ONNX)
    np.testing.assert_array_equal(again.logits, expected)
    assert warm_pool.served == {"warm": 0, "on_demand": 2, "cold": 0}


def test_a_child_that_dies_at_the_hand_over_leaves_the_job_to_a_cold_start(
    warm_pool: WarmPool, tiny_dataset: Path, model_files: ModelFiles, monkeypatch
) -> None:
    expected = run(model_files.onnx, tiny_dataset, fmt=ModelFormat.ONNX).logits
    wait_until_ready(warm_pool)
    hand_over = WarmChild.hand_over

    def die_first(self: WarmChild, **kwargs) -> bool:
        inside = [p for p in descendants(self.confined.proc.pid) if p in warm_pids()]
        for pid in inside:  # the Python inside bubblewrap, ready and waiting
            os.kill(pid, signal.SIGKILL)
        return hand_over(self, **kwargs)

    monkeypatch.setattr(WarmChild, "hand_over", die_first)
    again = run(model_files.onnx, tiny_dataset, fmt=ModelFormat.ONNX)
    np.testing.assert_array_equal(again.logits, expected)
    assert warm_pool.served == {"warm": 0, "on_demand": 1, "cold": 1}


def test_a_child_for_another_set_or_too_old_is_discarded(
    warm_pool: WarmPool, tiny_dataset: Path, model_files: ModelFiles, tmp_path: Path
) -> None:
    other = write_compiled_dataset(tmp_path / "other", seed=1)
    third = write_compiled_dataset(tmp_path / "third", seed=2)
    fourth = write_compiled_dataset(tmp_path / "fourth", seed=3)
    pool.COPY_MAX_BYTES, saved = 0, pool.COPY_MAX_BYTES  # every set bound, keyed by its path
    try:
        run(model_files.onnx, tiny_dataset, fmt=ModelFormat.ONNX)
        stale = wait_until_ready(warm_pool)
        run(model_files.onnx, other, fmt=ModelFormat.ONNX)  # the tiny set's child waits on
        run(model_files.onnx, third, fmt=ModelFormat.ONNX)  # ... as three kinds are kept
        assert stale in warm_pool.children and not stale.confined.released
        run(model_files.onnx, fourth, fmt=ModelFormat.ONNX)  # a fourth kind: the oldest goes
        assert stale.confined.released and stale not in warm_pool.children
        assert {c.key.inputs for c in warm_pool.children} == {
            pool.key_of_inputs(other / layout.IMAGES_DIR),
            pool.key_of_inputs(third / layout.IMAGES_DIR),
            pool.key_of_inputs(fourth / layout.IMAGES_DIR),
        }
        warm_pool.max_age_s = 0.5
        for child in warm_pool.children:
            assert child.ready(wait_s=120)
        time.sleep(1)
        run(model_files.onnx, fourth, fmt=ModelFormat.ONNX)  # aged out: started on demand
    finally:
        pool.COPY_MAX_BYTES = saved
    assert warm_pool.served == {"warm": 0, "on_demand": 5, "cold": 0}


def test_the_time_limit_counts_from_the_hand_over(
    warm_pool: WarmPool, tiny_dataset: Path, tmp_path: Path
) -> None:
    quick = hostile.pt2_payload(tmp_path / "quick.pt2", "report('done in time')")
    with pytest.raises(ModelLoadError, match="done in time"):
        run(quick, tiny_dataset, fmt=ModelFormat.TORCH_EXPORT, timeout_s=6)
    wait_until_ready(warm_pool)
    time.sleep(8)  # older than the limit before its job: the limit still holds in full
    with pytest.raises(ModelLoadError, match="done in time"):
        run(quick, tiny_dataset, fmt=ModelFormat.TORCH_EXPORT, timeout_s=6)
    wait_until_ready(warm_pool)
    sleeper = hostile.pt2_payload(tmp_path / "sleeper.pt2", "import time\ntime.sleep(60)\n")
    started = time.monotonic()
    with pytest.raises(ModelTimeout):
        run(sleeper, tiny_dataset, fmt=ModelFormat.TORCH_EXPORT, timeout_s=3)
    assert 3 <= time.monotonic() - started < 20


def gpu_memory_used_mb() -> int:
    import subprocess

    done = subprocess.run(
        ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "--id=0"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[0])


@pytest.mark.gpu
def test_on_a_gpu_the_warm_child_holds_its_cuda_context_before_its_job(
    tiny_dataset: Path, model_files: ModelFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    idle = gpu_memory_used_mb()  # no process of ours holds a context yet
    cold = run(model_files.onnx, tiny_dataset, fmt=ModelFormat.ONNX, device="cuda")
    with host_left_clean(tmp_path, monkeypatch):
        active = pool.configure(size=1)
        try:
            run(model_files.onnx, tiny_dataset, fmt=ModelFormat.ONNX, device="cuda")
            child = wait_until_ready(active)  # the only process of ours left: no job yet
            assert child.key.device == "cuda"
            held = gpu_memory_used_mb() - idle
            warm = run(model_files.onnx, tiny_dataset, fmt=ModelFormat.ONNX, device="cuda")
            served = dict(active.served)
        finally:
            pool.configure(size=0)
    assert held >= 100, f"a CUDA context is a few hundred MB; the waiting child holds {held} MB"
    assert served == {"warm": 1, "on_demand": 1, "cold": 0}
    np.testing.assert_allclose(warm.logits, cold.logits, rtol=1e-5, atol=1e-5)
    assert warm.info["device_name"] == cold.info["device_name"]


def _without_timings(value: object) -> object:
    """A result with every clock reading taken out (they differ between any two runs)."""
    if isinstance(value, dict):
        return {
            k: _without_timings(v)
            for k, v in value.items()
            if not any(w in k for w in ("second", "wall", "time", "_at", "throughput"))
        }
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def test_a_submissions_three_runs_each_keep_a_warm_child_and_give_the_cold_results(
    tiny_dataset: Path, model_files: ModelFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clean score, its insights, then the robustness run (the worker's order): each kind
    keeps a child waiting, so the next submission's clean score starts warm too."""
    from evaluator.robustness.scoring import score_robust
    from evaluator.scoring import score
    from tests.evaluator.test_insights import _insights

    def three() -> tuple[dict, dict, dict]:
        clean = score(dataset_dir=tiny_dataset, model_path=model_files.onnx)
        insights = _insights(model_files.onnx)
        return clean, insights, score_robust(dataset_dir=tiny_dataset, model_path=model_files.onnx)

    cold = three()
    with host_left_clean(tmp_path, monkeypatch):
        active = pool.configure(size=1)
        try:
            first = three()  # each kind of job: a child started for it, the next one behind
            assert len(active.children) == 3
            for child in active.children:
                assert child.ready(wait_s=120)
            again = three()  # all three kinds kept: each served by a child waiting for it
        finally:
            pool.configure(size=0)
    assert active.served == {"warm": 3, "on_demand": 3, "cold": 0}
    for warm in (first, again):
        for before, after in zip(cold, warm, strict=True):
            assert _without_timings(after) == _without_timings(before)


def test_a_forked_process_neither_uses_nor_kills_its_parents_children() -> None:
    active = pool.configure(size=1)
    try:
        pid = os.fork()
        if pid == 0:  # a Celery pool process forked from a worker that had a pool, say
            os._exit(0 if pool.active() is None else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert pool.active() is active
    finally:
        pool.configure(size=0)
