"""A description of the machine a benchmark ran on."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any

import torch


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            return int(handle.readline().split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        return None


def describe_machine() -> dict[str, Any]:
    """CPU, cores usable, threads, memory, GPU, load, versions and time."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(), "logical_cpus": os.cpu_count(), "usable_cpus": usable,
        "torch_threads": torch.get_num_threads(), "memory_gib": _memory_gib(), "gpu": gpu,
        "platform": platform.platform(), "python": platform.python_version(),
        "load_average_now": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "versions": {p: version(p) for p in ("torch", "transformers", "lm-eval")},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
