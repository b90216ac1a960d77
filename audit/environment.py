"""The software and hardware a run used, recorded in run.json for reproducibility."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

PACKAGES = ("fm-audit", "torch", "transformers", "lm-eval", "codecarbon", "evaluate", "pandas",
            "streamlit", "numpy", "safetensors", "gguf", "peft")


def package_versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def describe_environment() -> dict[str, Any]:
    """Python, OS, CPU/GPU and package versions."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.version.cuda if gpu else None,
        "gpu": gpu,
        "packages": package_versions(),
    }
