"""One forward pass of a causal LM, with the engine's memory accounting."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from transformers import DynamicCache

from audit.engine.settings import EngineSettings


class ModelRunner:
    """Calls the model under inference mode; counts the tokens a pass holds (its inputs plus
    the keys and values it attends to) and, when a simulated memory size is set, raises the
    out-of-memory error a GPU would raise above it."""

    def __init__(self, model: Any, settings: EngineSettings) -> None:
        self.model = model
        self.settings = settings
        self.device = next(model.parameters()).device
        self.keeps_selected_logits = "logits_to_keep" in inspect.signature(model.forward).parameters

    def __call__(self, input_ids: torch.Tensor, *, attention_mask: torch.Tensor | None = None,
                 position_ids: torch.Tensor | None = None, past: DynamicCache | None = None,
                 keep: torch.Tensor | None = None, use_cache: bool = False
                 ) -> tuple[torch.Tensor, DynamicCache | None]:
        """Logits (only at the `keep` positions when the model supports it) and the cache.

        `keep` is a boolean (rows, length) mask; the logits come back flattened in row order,
        one row of vocabulary scores per kept position.
        """
        held = input_ids.numel() + (past.get_seq_length() * input_ids.shape[0] if past else 0)
        limit = self.settings.simulated_memory_tokens
        if limit is not None and held > limit:
            raise torch.OutOfMemoryError(
                f"simulated device memory of {limit} tokens exceeded by a pass of {held}")
        kwargs: dict[str, Any] = {"attention_mask": attention_mask, "position_ids": position_ids,
                                  "use_cache": use_cache}
        if past is not None:
            kwargs["past_key_values"] = past
        elif use_cache:
            kwargs["past_key_values"] = DynamicCache()
        if keep is not None and self.keeps_selected_logits:
            kwargs["logits_to_keep"] = keep
        with torch.inference_mode():
            output = self.model(input_ids=input_ids, **kwargs)
        logits = output.logits
        if keep is not None and not self.keeps_selected_logits:
            logits = logits[keep]
        return logits, (output.past_key_values if use_cache else None)


def cache_rows(cache: DynamicCache, rows: torch.Tensor) -> DynamicCache:
    """A new cache holding the given rows of `cache` (a row may be taken several times)."""
    return DynamicCache(ddp_cache_data=[(keys[rows], values[rows])
                                        for keys, values, _ in cache])
