"""Load causal language models with transformers and serve them through fm-audit's engine."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from lm_eval.api.model import LM
from safetensors import SafetensorError

from audit.errors import ModelLoadError
from audit.models.base import LoadOptions, ModelProvenance
from audit.models.device import resolve_device, resolve_dtype
from audit.models.gguf_parsing import parse_gguf_once

log = logging.getLogger(__name__)


def load_causal_lm(source: str | Path, options: LoadOptions, gguf_file: str | None = None
                   ) -> tuple[Any, Any, str]:
    """Load model and tokenizer from a hub id or directory; return them with the device used.

    Safetensors only unless the user allows pickle; remote code only when the user allows it.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = resolve_device(options)
    dtype = resolve_dtype(options, device)
    kwargs: dict[str, Any] = {"trust_remote_code": options.trust_remote_code}
    if gguf_file is not None:
        kwargs["gguf_file"] = gguf_file
    parsing = parse_gguf_once() if gguf_file is not None else nullcontext()
    try:
        with parsing:
            tokenizer = AutoTokenizer.from_pretrained(str(source), **kwargs)
            model_kwargs = dict(kwargs, dtype=dtype)
            if gguf_file is None and not options.allow_pickle:
                model_kwargs["use_safetensors"] = True
            model = AutoModelForCausalLM.from_pretrained(str(source), **model_kwargs)
    except (OSError, ValueError, RuntimeError, KeyError, EOFError, SafetensorError) as exc:
        what = f"{source}/{gguf_file}" if gguf_file else str(source)
        raise ModelLoadError(
            f"could not load the model from {what}: {str(exc).strip()[:500]}",
            fix="check that the path or hub id is right and the weight files are complete "
            "(a truncated download gives this error; delete and fetch again). Pickle (.bin) "
            "weights are refused unless --allow-pickle is given.",
        ) from exc
    model.to(device)
    model.eval()
    return model, tokenizer, device


def describe(model: Any, tokenizer: Any, device: str, provenance: ModelProvenance) -> None:
    """Fill the parts of the provenance that only the loaded model knows."""
    provenance.parameters = sum(p.numel() for p in model.parameters())
    provenance.dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    provenance.device = device
    provenance.architecture = type(model).__name__
    provenance.chat_template = bool(getattr(tokenizer, "chat_template", None))


def wrap_as_lm(model: Any, tokenizer: Any, device: str, options: LoadOptions) -> LM:
    """The lm-eval `LM` that suites talk to: fm-audit's batched engine."""
    from audit.engine import EngineSettings, FastLM

    return FastLM(model, tokenizer, EngineSettings.for_device(device, options.batch_size))
