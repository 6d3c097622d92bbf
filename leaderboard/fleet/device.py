"""What a worker scores on: the GPU's name and memory from nvidia-smi, else the CPU and RAM.

nvidia-smi, not torch: initialising CUDA in the worker's main process before it forks its pool
would break CUDA in the pool processes.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_QUERY = "--query-gpu=name,memory.total,memory.used"


@dataclass(frozen=True)
class DeviceFacts:
    name: str
    memory_total_mb: int | None
    memory_used_mb: int | None


def device_facts(*, device: str) -> DeviceFacts:
    """The GPU this worker's CUDA device maps to, or the host's CPU for ``device="cpu"``."""
    if device.startswith("cuda"):
        gpu = _nvidia_smi(index=_gpu_index(device))
        if gpu is not None:
            return gpu
    return _cpu()


def _gpu_index(device: str) -> str:
    """nvidia-smi numbers GPUs as the host does; CUDA_VISIBLE_DEVICES renumbers them for us."""
    ordinal = int(device.partition(":")[2] or 0)
    visible = [d for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    return visible[ordinal].strip() if ordinal < len(visible) else str(ordinal)


def _nvidia_smi(*, index: str) -> DeviceFacts | None:
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return None
    try:
        done = subprocess.run(
            [binary, _QUERY, "--format=csv,noheader,nounits", "-i", index],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        name, total, used = (part.strip() for part in done.stdout.strip().split(","))
        return DeviceFacts(name=name, memory_total_mb=int(total), memory_used_mb=int(used))
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _cpu() -> DeviceFacts:
    name = platform.processor() or platform.machine()
    total = used = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.partition(":")[2].strip()
                break
        meminfo = dict(
            line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines()
        )
        total = int(meminfo["MemTotal"].split()[0]) // 1024
        used = total - int(meminfo["MemAvailable"].split()[0]) // 1024
    except (OSError, KeyError, ValueError):
        pass
    return DeviceFacts(
        name=f"CPU: {name} ({os.cpu_count()} cores)", memory_total_mb=total, memory_used_mb=used
    )
