"""The name of the device a run used, as the trusted parent sees it.

The record's device name sits beside every timing on the site; the child (the participant's
code) could claim any GPU, so the parent names the device itself: the CPU from /proc/cpuinfo,
a GPU from ``nvidia-smi`` (the driver's own tool; no CUDA context is created in the worker).
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from pathlib import Path


def device_name(device: str) -> str:
    """ "cpu", "cuda" or "cuda:N" to a readable name; the kind itself if nothing better is known."""
    if device.startswith("cuda"):
        _, _, index = device.partition(":")
        return gpu_name(int(index or 0)) or device
    return cpu_name()


@functools.cache
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def gpu_name(index: int) -> str | None:
    """The name of CUDA device ``index`` as this process's CUDA_VISIBLE_DEVICES numbers it."""
    visible = [v for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    if "CUDA_VISIBLE_DEVICES" in os.environ and not visible:
        return None
    selector = visible[index].strip() if index < len(visible) else str(index)
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader", "-i", selector],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = done.stdout.strip().splitlines()[0].strip() if done.stdout.strip() else ""
    return name if done.returncode == 0 and name else None
