"""Architecture plugins: found from entry points by the parent, handed to the sandboxed child."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from torch import nn

from evaluator import architectures
from evaluator.formats.base import ModelFormat
from evaluator.sandbox import runner
from evaluator.sandbox.bwrap import Bind

PLUGIN = """
from torch import nn


def register(add):
    add("test-plugin-net", lambda *, in_channels, num_classes: nn.Linear(in_channels, num_classes))
"""


@pytest.fixture
def registry_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry as it is now, restored after the test."""
    monkeypatch.setattr(architectures, "_BUILDERS", dict(architectures._BUILDERS))
    monkeypatch.setattr(architectures, "_plugins", architectures._plugins)
    monkeypatch.setattr(architectures, "_loaded", set(architectures._loaded))


def test_a_plugin_is_called_with_register_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_state: None
) -> None:
    (tmp_path / "test_arch_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    architectures.use_plugins(["test_arch_plugin:register"])
    assert "test_arch_plugin" not in sys.modules  # nothing runs before a name is looked up
    assert "test-plugin-net" in architectures.names()
    assert isinstance(
        architectures.build("test-plugin-net", in_channels=3, num_classes=4), nn.Linear
    )
    architectures.names()  # called once only
    assert architectures.names().count("test-plugin-net") == 1


def test_a_plugin_that_is_not_installed_here_is_left_out(registry_state: None) -> None:
    architectures.use_plugins(["no_such_plugin_package.networks:register"])
    assert "resnet18" in architectures.names()


def test_the_baselines_are_a_plugin_bound_beside_the_evaluator() -> None:
    if "baselines.architectures:register" not in architectures.plugins():
        pytest.skip("the project is not installed here (make install)")
    found = dict(runner.architecture_plugins())
    bind = found["baselines.architectures:register"]
    assert bind.name == "lib/baselines/architectures" and not bind.writable
    assert (bind.source / "__init__.py").is_file()
    job = runner.ChildJob(
        model_path=Path("model.onnx"),
        fmt=ModelFormat.ONNX,
        arch=None,
        inputs=Bind(Path("images"), "images"),
        args=(),
        outputs=(),
    )
    argv = runner.child_argv(root="/sandbox", job=job, plugins=list(found))
    assert argv[argv.index("--plugins") + 1] == "baselines.architectures:register"
