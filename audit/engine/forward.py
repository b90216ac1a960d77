"""One forward pass of a causal LM, with the engine's memory accounting."""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import torch
from transformers import DynamicCache

from audit.engine.attention import float64_attention
from audit.engine.packed_attention import Segment, packed_attention
from audit.engine.settings import EngineSettings


def min_token_rows() -> int:
    """Fewest token rows a CPU matrix product is given. CPU matrix products over a few rows take
    other kernels (and another split across threads) than over many, with other rounding:
    measured on this PyTorch, rows 1-3 differ on one thread and 1-11 (except multiples of 4) on
    two. Padding every product to this many rows keeps a sequence's numbers independent of how
    many others share its batch."""
    return max(16, 8 * torch.get_num_threads())


class _PaddedLinears:
    """While active, every linear layer of the model multiplies at least `min_rows` token rows:
    inputs with fewer get zero rows appended, and their outputs are cut back. Only the
    activations are padded, never the key/value cache, so a decoding step of one sequence
    against a long cache costs one sequence's attention, not `min_rows` of them."""

    def __init__(self, model: Any, min_rows: int) -> None:
        self.linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        self.min_rows = min_rows
        self.shapes: dict[int, torch.Size] = {}

    def _pad(self, module: torch.nn.Module, args: tuple[torch.Tensor, ...]
             ) -> tuple[torch.Tensor, ...] | None:
        inputs = args[0]
        rows = math.prod(inputs.shape[:-1])
        if rows >= self.min_rows:
            return None
        self.shapes[id(module)] = inputs.shape[:-1]
        flat = inputs.reshape(rows, inputs.shape[-1])
        return (torch.cat([flat, flat.new_zeros(self.min_rows - rows, flat.shape[1])]),
                *args[1:])

    def _unpad(self, module: torch.nn.Module, args: tuple[torch.Tensor, ...],
               output: torch.Tensor) -> torch.Tensor | None:
        shape = self.shapes.pop(id(module), None)
        if shape is None:
            return None
        return output[:math.prod(shape)].reshape(*shape, output.shape[-1])

    @contextmanager
    def active(self) -> Iterator[None]:
        """Pad inside the block only; the model is left unhooked outside it."""
        handles = [hook for m in self.linears for hook in (
            m.register_forward_pre_hook(self._pad), m.register_forward_hook(self._unpad))]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()
            self.shapes.clear()


class ModelRunner:
    """Calls the model under inference mode; counts the tokens a pass holds (its inputs plus
    the keys and values it attends to) and, when a simulated memory size is set, raises the
    out-of-memory error a GPU would raise above it. On CPU, matrix products get at least
    `min_token_rows()` rows and attention runs in float64 (or, for packed requests, on each
    request alone), so a sequence's numbers do not depend on its batch."""

    def __init__(self, model: Any, settings: EngineSettings) -> None:
        self.model = model
        self.settings = settings
        self.device = next(model.parameters()).device
        self.padding = (_PaddedLinears(model, min_token_rows()) if self.device.type == "cpu"
                        else None)
        self.keeps_selected_logits = "logits_to_keep" in inspect.signature(model.forward).parameters

    def __call__(self, input_ids: torch.Tensor, *, attention_mask: torch.Tensor | None = None,
                 position_ids: torch.Tensor | None = None, past: DynamicCache | None = None,
                 keep: torch.Tensor, use_cache: bool = False,
                 segments: list[Segment] | None = None
                 ) -> tuple[torch.Tensor, DynamicCache | None]:
        """Logits at the `keep` positions (a boolean rows x length mask), flattened in row
        order, and the updated cache when `use_cache`. With `segments`, the single input row
        holds packed requests, each attending only to itself."""
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
        if self.keeps_selected_logits:
            kwargs["logits_to_keep"] = keep
        with ExitStack() as stack:
            stack.enter_context(torch.inference_mode())
            if segments is not None:
                stack.enter_context(packed_attention(self.model, segments))
            elif self.padding is not None:
                stack.enter_context(float64_attention(self.model))
            if (self.padding is not None
                    and min(input_ids.numel(), int(keep.sum())) < self.padding.min_rows):
                stack.enter_context(self.padding.active())
            output = self.model(input_ids=input_ids, **kwargs)
        logits = output.logits if self.keeps_selected_logits else output.logits[keep]
        return logits, (output.past_key_values if use_cache else None)


def cache_rows(cache: DynamicCache, rows: torch.Tensor) -> DynamicCache:
    """A new cache holding the given rows of `cache` (a row may be taken several times)."""
    return DynamicCache(ddp_cache_data=[(keys[rows], values[rows])
                                        for keys, values, _ in cache])
