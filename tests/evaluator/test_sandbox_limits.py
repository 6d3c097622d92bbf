"""Whole-run limits (control groups) and what the parent observes of a run by itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evaluator.errors import SandboxUnavailable
from evaluator.sandbox import cgroup, limits
from evaluator.sandbox.bwrap import Bind
from evaluator.sandbox.process import run_sandboxed
from evaluator.sandbox.runner import observed_failure
from tests.evaluator.sandbox_helpers import requires_bwrap

pytestmark = pytest.mark.timeout(120)


def _fake_v2_root(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("cpu\n")
    (root / "cgroup.procs").write_text("")
    return root


def test_v2_group_caps_memory_swap_and_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cgroup v2 is not mounted with controllers on the development machines: a file tree
    shaped like one checks what is written where."""
    root = _fake_v2_root(tmp_path)
    monkeypatch.setattr(cgroup, "own_group", lambda hierarchy: "/")
    original_mkdir = Path.mkdir

    def mkdir_with_files(self: Path, *args, **kwargs) -> None:  # the kernel makes these files
        original_mkdir(self, *args, **kwargs)
        for name in ("memory.max", "memory.swap.max", "pids.max", "cgroup.procs"):
            (self / name).write_text("")

    monkeypatch.setattr(Path, "mkdir", mkdir_with_files)
    group, word = cgroup.create_run_group(memory_mb=512, pids_max=77, root=root)
    assert word == "v2" and group is not None
    (d,) = group.dirs
    assert d.parent == root and d.name.startswith(f"{cgroup.PREFIX}{os.getpid()}-")
    assert (d / "memory.max").read_text() == str(512 * 1024 * 1024)
    assert (d / "memory.swap.max").read_text() == "0"
    assert (d / "pids.max").read_text() == "77"
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids"
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
    assert group.oom_kills() == 2


def test_v2_without_the_controllers_says_why(tmp_path: Path, monkeypatch) -> None:
    root = _fake_v2_root(tmp_path)
    (root / "cgroup.controllers").write_text("cpu io\n")
    monkeypatch.setattr(cgroup, "own_group", lambda hierarchy: "/")
    group, word = cgroup.create_run_group(memory_mb=512, root=root)
    assert group is None and word.startswith("none:") and "memory and pids" in word


def test_no_controllers_at_all_is_recorded_not_fatal(tmp_path: Path) -> None:
    group, word = cgroup.create_run_group(memory_mb=512, root=tmp_path)
    assert group is None and word.startswith("none:")


def test_own_group_is_read_per_hierarchy() -> None:
    text = "12:pids:/a/b\n4:memory:/process_api/x\n1:name=systemd:/\n0::/unified/w\n"
    assert cgroup.own_group("pids", proc_cgroup=text) == "/a/b"
    assert cgroup.own_group("memory", proc_cgroup=text) == "/process_api/x"
    assert cgroup.own_group("", proc_cgroup=text) == "/unified/w"


def _real_group_or_skip(**kwargs) -> cgroup.RunGroup:
    group, word = cgroup.create_run_group(**kwargs)
    if group is None:
        pytest.skip(f"no control group can be made here ({word})")
    return group


def test_real_group_has_its_caps_and_is_removed() -> None:
    group = _real_group_or_skip(memory_mb=300, pids_max=33)
    try:
        if group.version == "v1":
            memory, pids = group.dirs
            assert int((memory / "memory.limit_in_bytes").read_text()) == 300 * 1024 * 1024
            assert (pids / "pids.max").read_text().strip() == "33"
        assert group.oom_kills() == 0 and group.pids() == []
    finally:
        group.remove()
    assert not any(d.exists() for d in group.dirs)


def test_a_run_is_in_its_group_and_the_group_is_gone_after() -> None:
    _real_group_or_skip(memory_mb=64).remove()
    done = run_sandboxed(
        command=lambda root: ["/bin/cat", "/proc/self/cgroup"],
        timeout_s=30,
        memory_mb=256,
        sandbox="none",
    )
    assert cgroup.PREFIX in done.output and done.cgroup in ("v1", "v2")
    names = {line.rsplit("/", 1)[-1] for line in done.output.splitlines() if cgroup.PREFIX in line}
    for name in names:
        assert not list(cgroup.CGROUP_ROOT.rglob(name))


@requires_bwrap
def test_bwrap_status_pipe_is_not_the_childs() -> None:
    done = run_sandboxed(
        command=lambda root: ["/bin/ls", "/proc/self/fd"], timeout_s=30, memory_mb=None
    )
    assert done.started and sorted(done.output.split()) == ["0", "1", "2", "3"]  # 3: ls's own


@requires_bwrap
def test_a_sandbox_that_never_started_is_the_platforms_fault(tmp_path: Path) -> None:
    """bubblewrap fails its own setup (a bind of a missing path): no child was ever announced."""
    done = run_sandboxed(
        command=lambda root: ["/bin/true"],
        binds=[Bind(tmp_path / "missing", "gone")],
        timeout_s=30,
        memory_mb=None,
        sandbox="bwrap",
    )
    assert done.started is False
    assert isinstance(observed_failure(done, memory_mb=None), SandboxUnavailable)


def test_nproc_limit_leaves_room_for_what_the_user_already_runs() -> None:
    assert limits.nproc_limit(10) > 10


def test_the_model_is_the_oom_killers_first_choice() -> None:
    done = run_sandboxed(
        command=lambda root: ["/bin/cat", "/proc/self/oom_score_adj"],
        timeout_s=30,
        memory_mb=None,
        sandbox="none",
    )
    assert done.output.strip() == "1000"
