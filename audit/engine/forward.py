"""One forward pass of a causal LM, with the engine's memory accounting."""

from __future__ import annotations

import inspect
from contextlib import nullcontext
from typing import Any

import torch
from transformers import DynamicCache

from audit.engine.attention import float64_attention
from audit.engine.settings import EngineSettings


def min_token_rows() -> int:
    """Fewest token rows a pass is given. CPU matrix products over a few rows take other kernels
    (and another split across threads) than over many, with other rounding: measured on this
    PyTorch, rows 1-3 differ on one thread and 1-11 (except multiples of 4) on two. Padding every
    pass (and its vocabulary projection) to this many rows keeps a sequence's numbers
    independent of how many others share its batch."""
    return max(16, 8 * torch.get_num_threads())


class ModelRunner:
    """Calls the model under inference mode; counts the tokens a pass holds (its inputs plus
    the keys and values it attends to) and, when a simulated memory size is set, raises the
    out-of-memory error a GPU would raise above it."""

    def __init__(self, model: Any, settings: EngineSettings) -> None:
        self.model = model
        self.settings = settings
        self.device = next(model.parameters()).device
        self.min_rows = min_token_rows() if self.device.type == "cpu" else 1
        self.keeps_selected_logits = "logits_to_keep" in inspect.signature(model.forward).parameters

    def __call__(self, input_ids: torch.Tensor, *, attention_mask: torch.Tensor | None = None,
                 position_ids: torch.Tensor | None = None, past: DynamicCache | None = None,
                 keep: torch.Tensor, use_cache: bool = False
                 ) -> tuple[torch.Tensor, DynamicCache | None]:
        """Logits at the `keep` positions (a boolean rows x length mask), flattened in row
        order, and the updated cache when `use_cache`.

        A pass with fewer than `min_rows` tokens gets copies of its first row, and one with
        fewer kept positions projects a few more; their logits and cache rows are dropped.
        """
        rows = input_ids.shape[0]
        held = input_ids.numel() + (past.get_seq_length() * rows if past else 0)
        limit = self.settings.simulated_memory_tokens
        if limit is not None and held > limit:
            raise torch.OutOfMemoryError(
                f"simulated device memory of {limit} tokens exceeded by a pass of {held}")
        extra = max(0, -(-self.min_rows // input_ids.shape[1]) - rows)
        if extra:
            copies = torch.tensor([*range(rows), *[0] * extra], device=input_ids.device)
            input_ids = input_ids[copies]
            keep = torch.cat([keep, torch.zeros_like(keep[:1]).repeat(extra, 1)])
            attention_mask = attention_mask[copies] if attention_mask is not None else None
            position_ids = position_ids[copies] if position_ids is not None else None
            past = cache_rows(past, copies) if past is not None else None
        projected = keep.clone()
        flat = projected.view(-1)
        flat[(~flat).nonzero().squeeze(1)[:max(0, self.min_rows - int(flat.sum()))]] = True
        logits, cache = self._forward(input_ids, attention_mask, position_ids, past, projected,
                                      use_cache)
        if extra and cache is not None:
            cache = cache_rows(cache, torch.arange(rows, device=input_ids.device))
        return logits[keep.view(-1)[flat]], cache

    def _forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None,
                 position_ids: torch.Tensor | None, past: DynamicCache | None,
                 keep: torch.Tensor, use_cache: bool
                 ) -> tuple[torch.Tensor, DynamicCache | None]:
        kwargs: dict[str, Any] = {"attention_mask": attention_mask, "position_ids": position_ids,
                                  "use_cache": use_cache}
        if past is not None:
            kwargs["past_key_values"] = past
        elif use_cache:
            kwargs["past_key_values"] = DynamicCache()
        if self.keeps_selected_logits:
            kwargs["logits_to_keep"] = keep
        exact = float64_attention(self.model) if self.device.type == "cpu" else nullcontext()
        with torch.inference_mode(), exact:
            output = self.model(input_ids=input_ids, **kwargs)
        logits = output.logits if self.keeps_selected_logits else output.logits[keep]
        return logits, (output.past_key_values if use_cache else None)


def cache_rows(cache: DynamicCache, rows: torch.Tensor) -> DynamicCache:
    """A new cache holding the given rows of `cache` (a row may be taken several times)."""
    return DynamicCache(ddp_cache_data=[(keys[rows], values[rows])
                                        for keys, values, _ in cache])
