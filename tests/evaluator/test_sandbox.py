"""The sandbox: what a model's process can see and do, and what the parent accepts back."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluator import layout
from evaluator.errors import (
    DatasetError,
    ModelCheckError,
    ModelCrashed,
    ModelLoadError,
    SandboxUnavailable,
)
from evaluator.formats.base import ModelFormat
from evaluator.sandbox import bwrap, protocol, runner
from evaluator.sandbox.bwrap import Bind
from evaluator.sandbox.outputs import OutputDir
from evaluator.sandbox.process import Completed, run_sandboxed
from evaluator.sandbox.runner import run_model
from evaluator.spec import InputSpec
from tests.evaluator import models
from tests.evaluator.models import ModelFiles
from tests.evaluator.sandbox_helpers import requires_bwrap

pytestmark = pytest.mark.timeout(300)

REPO_ROOT = Path(__file__).resolve().parents[2]

# Runs inside the sandbox: reports what it can see and do, as JSON in out/result.json.
PROBE = r"""
import json, os, socket, sys
root, labels, repo, ports, try_writes = sys.argv[1:6]
found = {"env": dict(os.environ), "cwd": os.getcwd()}
found["root"] = sorted(os.listdir(root))
found["images"] = sorted(os.listdir(root + "/images"))
found["labels_visible"] = os.path.exists(labels)
found["repo_visible"] = [p for p in os.listdir(repo)] if os.path.isdir(repo) else []
found["interfaces"] = [l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]]
found["processes"] = len([p for p in os.listdir("/proc") if p.isdigit()])
found["connect"] = {}
for port in filter(None, ports.split(",")):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", int(port)))
        found["connect"][port] = "connected"
    except OSError as exc:
        found["connect"][port] = type(exc).__name__
found["writes"] = {}
python_dirs = [sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
targets = ["/", "/usr", "/etc", "/dev/shm", root, root + "/images", root + "/lib/evaluator",
           *python_dirs, "/tmp", root + "/out"]
for target in targets if try_writes == "yes" else []:
    try:
        with open(os.path.join(target, "written-by-sandbox"), "w") as f:
            f.write("x")
        found["writes"][target] = True
    except OSError:
        found["writes"][target] = False
with open(root + "/out/result.json", "w") as f:
    json.dump(found, f)
"""


def _probe(
    tiny_dataset: Path, tmp_path: Path, *, sandbox: str, ports: list[int]
) -> tuple[dict, Completed]:
    out = tmp_path / "out"
    out.mkdir()
    labels = layout.labels_dir(tiny_dataset) / layout.LABELS_FILE
    package = Path(runner.__file__).resolve().parents[1]
    done = run_sandboxed(
        command=lambda root: [
            sys.executable,
            "-c",
            PROBE,
            root,
            str(labels),
            str(REPO_ROOT),
            ",".join(map(str, ports)),
            "yes" if sandbox == "bwrap" else "no",  # never try writes on the host itself
        ],
        binds=[
            Bind(package, "lib/evaluator"),
            Bind(layout.images_dir(tiny_dataset), "images"),
            Bind(out, "out", writable=True),
        ],
        timeout_s=60,
        memory_mb=4096,
        sandbox=sandbox,
    )
    assert done.returncode == 0, done.output
    return json.loads((out / "result.json").read_text()), done


@pytest.fixture
def listener():
    """A TCP port open on the host's loopback: the sandbox must not reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


@requires_bwrap
def test_sandbox_sees_images_only_no_env_no_network_no_writes(
    tiny_dataset: Path, tmp_path: Path, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://user:secret@db/leaderboard")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "secret")
    found, done = _probe(tiny_dataset, tmp_path, sandbox="bwrap", ports=[listener, 6379, 5432])
    assert done.sandbox == "bwrap"
    assert "DATABASE_URL" not in found["env"] and "DJANGO_SECRET_KEY" not in found["env"]
    assert "secret" not in json.dumps(found["env"])
    assert found["env"]["HOME"] == "/tmp"
    assert found["env"]["OMP_WAIT_POLICY"] == "PASSIVE"  # no spinning pool on a shared node
    assert found["root"] == ["images", "lib", "out"]
    assert found["images"] == sorted([layout.IMAGES_FILE, layout.META_FILE])
    assert found["labels_visible"] is False
    # The repository is invisible, but for the Python environment if it lives inside it.
    assert [p for p in found["repo_visible"] if not (REPO_ROOT / p / "pyvenv.cfg").exists()] == []
    assert found["interfaces"] == ["lo"]
    assert set(found["connect"].values()) <= {"ConnectionRefusedError", "OSError"}
    assert found["processes"] <= 3  # its own pid namespace: no host processes
    writable = {target for target, ok in found["writes"].items() if ok}
    assert writable == {"/tmp", f"{bwrap.SANDBOX_ROOT}/out"}
    assert (tmp_path / "out" / "written-by-sandbox").exists()
    assert not (layout.images_dir(tiny_dataset) / "written-by-sandbox").exists()


def test_without_bwrap_the_environment_is_still_cleared(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://user:secret@db/leaderboard")
    found, done = _probe(tiny_dataset, tmp_path, sandbox="none", ports=[])
    assert done.sandbox == "none"
    assert "DATABASE_URL" not in found["env"]
    assert found["root"] == ["images", "lib", "out"]
    assert found["cwd"] != str(Path.cwd())


def test_auto_falls_back_to_none_and_require_sandbox_refuses(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bwrap, "probe", lambda: None)
    _, done = _probe(tiny_dataset, tmp_path, sandbox="auto", ports=[])
    assert done.sandbox == "none"
    for kwargs in ({"require_sandbox": True}, {"sandbox": "bwrap"}):
        with pytest.raises(SandboxUnavailable):
            run_sandboxed(command=lambda root: ["true"], timeout_s=5, memory_mb=None, **kwargs)


def test_argv_binds_images_not_labels_nor_repo(tiny_dataset: Path, tmp_path: Path) -> None:
    support = bwrap.BwrapSupport(path="/usr/bin/bwrap", user_namespace=True)
    images = layout.images_dir(tiny_dataset)
    argv = bwrap.build_argv(
        support=support,
        command=["python", "-m", "evaluator.sandbox.child"],
        binds=[Bind(images, "images"), Bind(tmp_path, "out", writable=True)],
        env={"PATH": "/usr/bin:/bin"},
    )
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert str(images) in argv and f"{bwrap.SANDBOX_ROOT}/images" in argv
    assert str(tiny_dataset) not in argv and str(layout.labels_dir(tiny_dataset)) not in argv
    assert str(REPO_ROOT) not in argv
    assert argv[argv.index("--") + 1 :] == ["python", "-m", "evaluator.sandbox.child"]


def test_a_python_environment_under_tmp_is_bound_over_the_fresh_tmp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bwrap applies its options in order: a venv in /tmp bound before the tmpfs is hidden."""
    monkeypatch.setattr(bwrap, "python_dirs", lambda: ["/tmp/clone/.venv", "/opt/python"])
    support = bwrap.BwrapSupport(path="/usr/bin/bwrap", user_namespace=True)
    argv = bwrap.build_argv(support=support, command=["true"], binds=[], env={})
    tmpfs = argv.index("--tmpfs")
    assert argv[tmpfs + 1] == "/tmp"
    venv = argv.index("/tmp/clone/.venv")
    assert argv[venv - 1] == "--ro-bind" and venv > tmpfs


@pytest.mark.parametrize(
    ("attr", "fmt"),
    [
        ("onnx", ModelFormat.ONNX),
        ("safetensors", ModelFormat.SAFETENSORS),
        ("pt2", ModelFormat.TORCH_EXPORT),
        ("torchscript", ModelFormat.TORCHSCRIPT),
    ],
)
def test_run_model_returns_the_networks_logits(
    model_files: ModelFiles,
    tiny_dataset: Path,
    attr: str,
    fmt: ModelFormat,
) -> None:
    images_dir = layout.images_dir(tiny_dataset)
    result = run_model(
        model_path=getattr(model_files, attr),
        fmt=fmt,
        arch=model_files.arch,
        images_dir=images_dir,
        num_classes=10,
        batch_size=16,
        timeout_s=180,
    )
    images = np.load(images_dir / layout.IMAGES_FILE)
    spec = InputSpec(channels=1, height=28, width=28)
    expected = models.reference_logits(model_files.module, images, spec)
    assert result.logits.dtype == np.float32 and result.logits.shape == (64, 10)
    np.testing.assert_allclose(result.logits, expected, rtol=1e-4, atol=1e-4)
    assert result.sandbox == ("bwrap" if bwrap.probe() else "none")
    assert result.info["batch_size"] == 16 and result.info["n_nonfinite"] == 0
    assert result.info["params"] == sum(p.numel() for p in model_files.module.parameters()) or (
        fmt is ModelFormat.ONNX and result.info["params"] > 0
    )
    assert result.info["device_name"] and result.info["versions"]["torch"]
    assert result.wall_seconds > result.info["seconds"] > 0


def test_safetensors_errors_come_back_with_their_code(
    model_files: ModelFiles,
    tiny_dataset: Path,
) -> None:
    with pytest.raises(ModelLoadError, match="unknown architecture 'resnet19'"):
        run_model(
            model_path=model_files.safetensors,
            fmt=ModelFormat.SAFETENSORS,
            arch="resnet19",
            images_dir=layout.images_dir(tiny_dataset),
            num_classes=10,
            timeout_s=180,
        )


def test_run_model_wants_the_images_directory(
    model_files: ModelFiles,
    tiny_dataset: Path,
) -> None:
    with pytest.raises(DatasetError, match="images/"):
        run_model(
            model_path=model_files.onnx,
            fmt=ModelFormat.ONNX,
            arch=None,
            images_dir=tiny_dataset,
            num_classes=10,
        )


# The parent's reading of what a child leaves behind: untrusted input.


def _done(returncode: int = 0, signal: int | None = None, output: str = "") -> Completed:
    return Completed(
        returncode=returncode, signal=signal, output=output, sandbox="bwrap", wall_seconds=1.0
    )


def _collect(out: Path, done: Completed | None = None):
    names = (protocol.LOGITS_FILE, protocol.INFO_FILE, protocol.ERROR_FILE)
    return runner._collect(
        done=done or _done(),
        out=OutputDir(path=out, names=names),
        n_images=4,
        num_classes=3,
        memory_mb=64,
    )


def test_wrong_logits_shape_names_both_shapes(tmp_path: Path) -> None:
    np.save(tmp_path / protocol.LOGITS_FILE, np.zeros((4, 2), np.float32))
    (tmp_path / protocol.INFO_FILE).write_text("{}")
    with pytest.raises(ModelCheckError, match=r"\(4, 3\).*\(4, 2\)"):
        _collect(tmp_path)


@pytest.mark.parametrize(
    "array",
    [np.zeros((4, 3), np.int64), np.array([[{"a": 1}] * 3] * 4, dtype=object)],
    ids=["integers", "pickled-objects"],
)
def test_non_float_or_pickled_logits_are_refused(tmp_path: Path, array: np.ndarray) -> None:
    np.save(tmp_path / protocol.LOGITS_FILE, array, allow_pickle=True)
    (tmp_path / protocol.INFO_FILE).write_text("{}")
    with pytest.raises(ModelCheckError):
        _collect(tmp_path)


def test_oversized_logits_file_is_not_read(tmp_path: Path) -> None:
    np.save(tmp_path / protocol.LOGITS_FILE, np.zeros((100_000, 3), np.float32))
    (tmp_path / protocol.INFO_FILE).write_text("{}")
    with pytest.raises(ModelCheckError, match=r"over the .* cap"):
        _collect(tmp_path)


def test_float64_logits_are_accepted_as_float32(tmp_path: Path) -> None:
    np.save(tmp_path / protocol.LOGITS_FILE, np.ones((4, 3), np.float64))
    (tmp_path / protocol.INFO_FILE).write_text('{"params": 5}')
    result = _collect(tmp_path)
    assert result.logits.dtype == np.float32 and result.info == {"params": 5}


def test_reported_error_codes_map_back_and_unknown_codes_do_not(tmp_path: Path) -> None:
    error = tmp_path / protocol.ERROR_FILE
    error.write_text(json.dumps({"code": "model_check_failed", "message": "bad \x1b[31m shape"}))
    with pytest.raises(ModelCheckError, match=r"bad \?\[31m shape"):
        _collect(tmp_path, _done(protocol.EXIT_REPORTED))
    error.write_text(json.dumps({"code": "sandbox_unavailable", "message": "pretend"}))
    with pytest.raises(ModelCrashed, match="claimed 'sandbox_unavailable', a code only the"):
        _collect(tmp_path, _done(protocol.EXIT_REPORTED))
    error.write_text(json.dumps({"code": 7, "message": "pretend"}))
    with pytest.raises(ModelCrashed, match="unrecognised"):
        _collect(tmp_path, _done(protocol.EXIT_REPORTED))


def test_oversized_json_is_ignored(tmp_path: Path) -> None:
    (tmp_path / protocol.ERROR_FILE).write_text(
        json.dumps({"code": "model_check_failed", "message": "x" * (2 * protocol.MAX_JSON_BYTES)})
    )
    with pytest.raises(ModelCrashed, match="status 5"):
        _collect(tmp_path, _done(protocol.EXIT_UNEXPECTED, output="Traceback...\nValueError: x"))


def test_missing_report_is_a_crash_with_the_childs_last_lines(tmp_path: Path) -> None:
    with pytest.raises(ModelCrashed, match="without a report") as info:
        _collect(tmp_path, _done(0, output="line one\nline two"))
    assert "line two" in str(info.value)


def test_driver_library_dirs_outside_usr_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drivers = tmp_path / "nvidia" / "lib64"
    drivers.mkdir(parents=True)
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{drivers}:/usr/lib:/does/not/exist")
    found = bwrap.driver_lib_dirs()
    assert str(drivers) in found
    assert not any(d == "/usr" or d.startswith("/usr/") for d in found)
    assert "/does/not/exist" not in found


def test_only_platform_code_is_bound() -> None:
    names = [bind.name for bind in runner.code_binds()]
    assert names[0] == "lib/evaluator"
    assert set(names) <= {"lib/evaluator", "lib/baselines/architectures"}
    assert all(bind.source.is_dir() and not bind.writable for bind in runner.code_binds())


def test_baseline_architectures_load_inside_the_sandbox(tiny_dataset: Path, tmp_path: Path) -> None:
    from evaluator import architectures as registry

    arch = "baseline-lenet5"
    if arch not in registry.names():
        pytest.skip("the baselines package does not register its networks here")
    module = models.build(arch)
    path = models.export_safetensors(module, tmp_path / "lenet.safetensors")
    images_dir = layout.images_dir(tiny_dataset)
    result = run_model(
        model_path=path,
        fmt=ModelFormat.SAFETENSORS,
        arch=arch,
        images_dir=images_dir,
        num_classes=10,
        timeout_s=180,
    )
    images = np.load(images_dir / layout.IMAGES_FILE)
    expected = models.reference_logits(module, images, InputSpec(channels=1, height=28, width=28))
    np.testing.assert_allclose(result.logits, expected, rtol=1e-4, atol=1e-4)


def test_onnx_sessions_do_not_spin_between_operators(tmp_path: Path) -> None:
    """A spinning onnxruntime pool halved LeNet-5's speed on a busy node (README, Speed)."""
    from evaluator.bench.tiny import tiny_onnx
    from evaluator.formats.loaders import load_onnx
    from evaluator.spec import InputSpec

    model = tmp_path / "tiny.onnx"
    model.write_bytes(tiny_onnx())
    loaded = load_onnx(
        path=model, spec=InputSpec(channels=1, height=8, width=8), num_classes=4, device="cpu"
    )
    entries = loaded.session.get_session_options().get_session_config_entry
    assert entries("session.intra_op.allow_spinning") == "0"
