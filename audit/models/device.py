"""Choose the device and dtype a model runs with."""

from __future__ import annotations

import torch

from audit.errors import ModelLoadError
from audit.models.base import LoadOptions

_DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
           "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}


def resolve_device(options: LoadOptions) -> str:
    """CUDA when present (or forced), else CPU; a forced CUDA without a GPU is an error."""
    if options.device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("--device cuda was requested but no CUDA GPU is visible.",
                             fix="use --device cpu or --device auto.")
    if options.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return options.device


def resolve_dtype(options: LoadOptions, device: str) -> torch.dtype:
    """bf16 on GPU and fp32 on CPU unless the user names a dtype."""
    if options.dtype == "auto":
        return torch.bfloat16 if device == "cuda" else torch.float32
    if options.dtype not in _DTYPES:
        raise ModelLoadError(f"unknown dtype {options.dtype!r}",
                             fix=f"use one of: auto, {', '.join(sorted(_DTYPES))}.")
    return _DTYPES[options.dtype]
