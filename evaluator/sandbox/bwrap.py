"""Build the bubblewrap command line that confines a model's process.

The child gets: no network (fresh namespaces), no capabilities, no environment but what is set
here, a small private /tmp, the system's programs and libraries (``/usr/bin``, ``/usr/lib``...,
never ``/usr/share``, where Debian installs public data sets such as Fashion-MNIST with their
labels), the Python installation with the data files of packages that ship labelled sets
(scikit-learn's digits...) hidden, and under ``SANDBOX_ROOT`` only what it is handed (the
evaluator package, the model file, the images directory, an output directory). The repository,
the labels, the media root and the worker's environment (DATABASE_URL...) simply do not exist.
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
# The parts of /usr a Python process and its native libraries use; /usr/share and
# /usr/local/share (data, documentation, data sets) are left out.
USR_DIRS = ("/usr/bin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/usr/libexec")
USR_DIRS += ("/usr/local/bin", "/usr/local/lib", "/usr/local/lib64")
# Directories inside installed packages that hold labelled data sets; each is replaced by an
# empty directory inside the sandbox. EVALUATOR_SANDBOX_HIDE (paths joined by ":") adds more.
HIDDEN_PACKAGE_DATA = ("sklearn/datasets/data", "sklearn/datasets/images", "keras/datasets")
HIDE_ENV = "EVALUATOR_SANDBOX_HIDE"
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
    status_fd: int | None = None,
    symlinks: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """The full argv: bwrap, its options, ``--``, then ``command`` (which uses sandbox paths).

    ``status_fd`` receives bubblewrap's JSON status (the parent learns from it whether the
    sandbox started). ``symlinks`` are ``(target, name)`` links made at ``SANDBOX_ROOT/name``
    (a warm child's ``model``, which names the file its job will bring).
    """
    argv = [support.path, "--unshare-all", "--die-with-parent", "--new-session"]
    if status_fd is not None and status_fd >= 0:
        argv += ["--json-status-fd", str(status_fd)]
    if support.user_namespace:
        argv += ["--unshare-user", "--disable-userns"]
    argv += ["--cap-drop", "ALL", "--hostname", "sandbox", "--clearenv"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    for path in USR_DIRS:
        if os.path.isdir(path) and not os.path.islink(path):
            argv += ["--ro-bind", path, path]
    argv += _system_dir_args()
    for name in _ETC_FILES:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # The fresh /tmp first: a Python environment that lives under /tmp is then bound on top
    # of it rather than hidden by it.
    argv += ["--size", str(tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    for path in python_dirs():
        argv += ["--ro-bind", str(Path(path).resolve()), str(path)]
    for path in hidden_paths():  # an empty read-only tmpfs over each
        argv += ["--tmpfs", path, "--remount-ro", path]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    if cuda:
        argv += _gpu_args()
    for bind in binds:
        flag = "--bind" if bind.writable else "--ro-bind"
        argv += [flag, str(Path(bind.source).resolve()), f"{SANDBOX_ROOT}/{bind.name}"]
    for target, name in symlinks:
        argv += ["--symlink", target, f"{SANDBOX_ROOT}/{name}"]
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


def hidden_paths() -> list[str]:
    """Directories visible through the binds above that hold labelled data: hidden inside."""
    roots = [*python_dirs(), *(d for d in USR_DIRS if os.path.isdir(d))]
    found: set[str] = set()
    for root in roots:
        for site in _site_dirs(root):
            for rel in HIDDEN_PACKAGE_DATA:
                if os.path.isdir(os.path.join(site, rel)):
                    found.add(os.path.join(site, rel))
    for extra in os.environ.get(HIDE_ENV, "").split(":"):
        if extra and os.path.isdir(extra) and any(_under(extra, r) for r in roots):
            found.add(os.path.normpath(extra))
    return sorted(found)


def _site_dirs(root: str) -> list[str]:
    """The package directories under a bound root (a venv, a base installation, /usr/lib)."""
    patterns = ("lib/python3*/site-packages", "lib/python3*/dist-packages", "python3*/*-packages")
    patterns += ("python3/dist-packages", "local/lib/python3*/dist-packages")
    dirs = [d for pattern in patterns for d in glob.glob(os.path.join(root, pattern))]
    if root.endswith(("site-packages", "dist-packages")):
        dirs.append(root)
    return sorted(set(dirs))


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
