"""The trust-boundary cases of test_sandbox_boundary.py again, each model run by a warm child.

A warm child takes its job over a pipe after its start, into a slot directory and output files
made before the model was known; every hostile ending must still be a model error or a correct
score, with nothing left on the host. The cases without bubblewrap run cold (a warm child needs
it) and are left to the original module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluator.sandbox import pool
from tests.evaluator.boundary_helpers import host_left_clean
from tests.evaluator.sandbox_helpers import requires_bwrap
from tests.evaluator.test_sandbox_boundary import *  # noqa: F403  (the cases, run again here)
from tests.evaluator.test_sandbox_warm import warm_pids

pytestmark = [pytest.mark.timeout(300), requires_bwrap]


@pytest.fixture(autouse=True)
def nothing_left_behind(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Runs with one warm child kept; afterwards no child, slot, group or file is left."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    if params.get("sandbox") == "none":
        pytest.skip("without bubblewrap every run is cold: test_sandbox_boundary.py has it")
    with host_left_clean(tmp_path, monkeypatch):
        active = pool.configure(size=1)
        assert active is not None
        try:
            yield
        finally:
            pool.configure(size=0)
        assert warm_pids() == []
        assert active.served["cold"] == 0, active.served
