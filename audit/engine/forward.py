"""One forward pass of a causal LM, with the engine's memory accounting."""

from __future__ import annotations

import inspect
from contextlib import ExitStack
from typing import Any

import torch
from transformers import DynamicCache

from audit.engine.attention import rowwise_attention
from audit.engine.growing_cache import GrowingCache
from audit.engine.packed_attention import Segment, packed_attention
from audit.engine.row_tiles import DECODE_TILE_ROWS, PASS_TILE_ROWS, TiledLinears
from audit.engine.settings import EngineSettings


class ModelRunner:
    """Calls the model under inference mode; counts the tokens a pass holds (its inputs plus
    the keys and values it attends to) and, when a simulated memory size is set, raises the
    out-of-memory error a GPU would raise above it. On CPU, a request's numbers depend on the
    request alone: matrix products run on fixed-shape row tiles (`row_tiles`) and attention
    runs per request (`packed_attention`) or per row on its real tokens (`attention`)."""

    def __init__(self, model: Any, settings: EngineSettings) -> None:
        self.model = model
        self.settings = settings
        self.device = next(model.parameters()).device
        self.tiles = TiledLinears(model) if self.device.type == "cpu" else None
        self.decode_tile_rows = DECODE_TILE_ROWS if self.tiles is not None else None
        """Rows of a decoding step's products (CPU), None where products are not tiled."""
        self.keeps_selected_logits = "logits_to_keep" in inspect.signature(model.forward).parameters

    def __call__(self, input_ids: torch.Tensor, *, attention_mask: torch.Tensor | None = None,
                 position_ids: torch.Tensor | None = None, past: DynamicCache | None = None,
                 keep: torch.Tensor, use_cache: bool = False,
                 segments: list[Segment] | None = None, decoding: bool = False
                 ) -> tuple[torch.Tensor, DynamicCache | None]:
        """Logits at the `keep` positions (a boolean rows x length mask), flattened in row
        order, and the updated cache when `use_cache`. With `segments`, the single input row
        holds packed requests, each attending only to itself. `decoding` marks a generator's
        step that feeds each sequence one token after its cached keys (its products use the
        small decoding tile, its attention runs batched on key tiles)."""
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
            kwargs["past_key_values"] = GrowingCache()
        if self.keeps_selected_logits:
            kwargs["logits_to_keep"] = keep
        with ExitStack() as stack:
            stack.enter_context(torch.inference_mode())
            if segments is not None:
                stack.enter_context(packed_attention(self.model, segments))
            elif self.tiles is not None:
                stack.enter_context(rowwise_attention(self.model, _real_tokens(
                    input_ids, attention_mask, past), decoding))
            if self.tiles is not None:
                stack.enter_context(self.tiles.active(
                    DECODE_TILE_ROWS if decoding else PASS_TILE_ROWS))
            output = self.model(input_ids=input_ids, **kwargs)
        logits = output.logits if self.keeps_selected_logits else output.logits[keep]
        return logits, (output.past_key_values if use_cache else None)


def _real_tokens(input_ids: torch.Tensor, attention_mask: torch.Tensor | None,
                 past: DynamicCache | None) -> torch.Tensor:
    """The pass's attention mask over every key column (cache included); all ones when the
    caller gave none (rows without padding)."""
    if attention_mask is not None:
        return attention_mask
    length = input_ids.shape[1] + (past.get_seq_length() if past is not None else 0)
    return torch.ones(input_ids.shape[0], length, dtype=torch.long, device=input_ids.device)


def cache_rows(cache: DynamicCache, rows: torch.Tensor) -> DynamicCache:
    """A new cache holding the given rows of `cache` (a row may be taken several times)."""
    return DynamicCache(ddp_cache_data=[(keys[rows], values[rows])
                                        for keys, values, _ in cache])
