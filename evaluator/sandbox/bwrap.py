"""Build the bubblewrap command line that confines a model's process.

The child gets: no network (fresh namespaces), no capabilities, no environment but what is set
here, a small private /tmp, read-only system libraries and Python installation, and under
``SANDBOX_ROOT`` only what it is handed (the evaluator package, the model file, the images
directory, a writable output directory). The repository, the labels, the media root and the
worker's environment (DATABASE_URL...) simply do not exist inside.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SANDBOX_ROOT = "/sandbox"
TMP_MB = 256
# Top-level directories that are either symlinks into /usr (merged-usr systems) or real ones.
_SYSTEM_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# What the dynamic loader needs from /etc to find libraries (CUDA's included); nothing else.
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d")
_GPU_DEVICES = ("/dev/nvidia*", "/dev/nvidia-caps", "/dev/dri")
_DRIVER_LIBS = ("libcuda.so", "libnvidia-", "libnvcuvid", "libcudadebugger")


@dataclass(frozen=True)
class Bind:
    """A host path made visible at ``SANDBOX_ROOT/name``; read-only unless ``writable``."""

    source: Path
    name: str
    writable: bool = False


@dataclass(frozen=True)
class BwrapSupport:
    """What the probe found to work here: the binary and whether a user namespace can be made."""

    path: str
    user_namespace: bool


def build_argv(
    *,
    support: BwrapSupport,
    command: Sequence[str],
    binds: Sequence[Bind],
    env: Mapping[str, str],
    cuda: bool = False,
    tmp_mb: int = TMP_MB,
) -> list[str]:
    """The full argv: bwrap, its options, ``--``, then ``command`` (which uses sandbox paths)."""
    argv = [support.path, "--unshare-all", "--die-with-parent", "--new-session"]
    if support.user_namespace:
        argv += ["--unshare-user", "--disable-userns"]
    argv += ["--cap-drop", "ALL", "--hostname", "sandbox", "--clearenv"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    argv += ["--ro-bind", "/usr", "/usr"]
    argv += _system_dir_args()
    for name in _ETC_FILES:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # The fresh /tmp first: a Python environment that lives under /tmp is then bound on top
    # of it rather than hidden by it.
    argv += ["--size", str(tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    for path in python_dirs():
        argv += ["--ro-bind", str(Path(path).resolve()), str(path)]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    if cuda:
        argv += _gpu_args()
    for bind in binds:
        flag = "--bind" if bind.writable else "--ro-bind"
        argv += [flag, str(Path(bind.source).resolve()), f"{SANDBOX_ROOT}/{bind.name}"]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/tmp", "--"]
    return argv + list(command)


def python_dirs() -> list[str]:
    """The Python installation and environment this process runs, outside /usr.

    Bound at the paths the interpreter knows them by, so ``sys.executable`` starts inside with
    the same packages (a venv's pyvenv.cfg points at its base installation).
    """
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    candidates += [os.path.realpath(p) for p in candidates]
    candidates += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    return _outermost(p for p in candidates if os.path.isdir(p))


def driver_lib_dirs() -> list[str]:
    """Directories outside /usr holding the NVIDIA driver's user-space libraries."""
    dirs = [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(":") if p]
    try:
        listing = subprocess.run(
            ["ldconfig", "-p"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    for line in listing.splitlines():
        name, _, target = line.strip().partition(" => ")
        if name.startswith(_DRIVER_LIBS) and target:
            dirs.append(os.path.dirname(target))
    real = (os.path.realpath(d) for d in dirs if os.path.isdir(d))  # /lib -> /usr/lib
    return _outermost(d for d in real if not _under(d, "/usr"))


def gpu_device_nodes() -> list[str]:
    return sorted({p for pattern in _GPU_DEVICES for p in glob.glob(pattern)})


def find_bwrap() -> str | None:
    return shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap") if os.access(p, os.X_OK)), None
    )


@functools.cache
def probe() -> BwrapSupport | None:
    """Whether bubblewrap can start Python here; run once per process, then remembered.

    Containers often forbid the namespaces bwrap needs; then the caller falls back (or refuses,
    where the sandbox is mandatory).
    """
    path = find_bwrap()
    if path is None:
        return None
    for user_namespace in (True, False):
        support = BwrapSupport(path=path, user_namespace=user_namespace)
        argv = build_argv(
            support=support,
            command=[sys.executable, "-c", "import sys"],
            binds=[],
            env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        )
        try:
            done = subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return support
    return None


def _system_dir_args() -> list[str]:
    args: list[str] = []
    for name in _SYSTEM_DIRS:
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _gpu_args() -> list[str]:
    """Device nodes (read-write: the driver needs them) and driver libraries (read-only).

    Device access needs --dev-bind; the nodes are shared with the host, as any CUDA process's.
    """
    args: list[str] = []
    for node in gpu_device_nodes():
        args += ["--dev-bind", node, node]
    for lib_dir in driver_lib_dirs():
        args += ["--ro-bind", lib_dir, lib_dir]
    return args


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _outermost(paths: Iterable[str]) -> list[str]:
    """Deduplicate and drop paths inside another listed path or inside /usr."""
    unique = sorted({os.path.normpath(p) for p in paths})
    kept: list[str] = []
    for p in unique:
        if _under(p, "/usr") or any(_under(p, k) for k in kept):
            continue
        kept.append(p)
    return kept
