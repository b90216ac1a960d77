"""Attention of a padded batch computed row by row on each row's real tokens (the CPU path).

Every other operation of a decoder treats each token row on its own (and, on a CPU, matrix
products run on fixed-shape tiles: see `row_tiles`), but attention reduces over keys, and a
padded batch gives every row the key length of its longest member. An attention kernel blocks
its work by the length of its call, so the same row would round differently beside other rows.
Here each row of the batch gets its own attention call over its real queries and its real keys
(the columns its attention mask marks), under the model's own mask restricted to them (causal,
and a sliding window where the layer has one). The call's shapes and contents are the row's
own, so its numbers do not depend on the batch: padding, the other rows and their order.

A decoding step of the generator (one query per row, each row's keys at the end of the cache)
runs instead as one computation for the whole batch on key tiles counted from the end of the
cache (`decode_attention`), whose rows are just as independent of each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
from transformers.modeling_utils import AttentionInterface

from audit.engine.decode_attention import decode_attention

NAME = "fm_audit_rowwise_sdpa"


@dataclass
class _Rows:
    """The real-token mask of the pass (rows x every key column, cache included), whether the
    pass is a decoding step of the generator, and, per query length, each row's real query and
    key indices (the same for every layer)."""

    real: torch.Tensor
    decoding: bool = False
    indices: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = field(default_factory=dict)

    def of(self, query_length: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if query_length not in self.indices:
            first_query = self.real.shape[1] - query_length
            self.indices[query_length] = [
                (row[first_query:].nonzero().squeeze(1), row.nonzero().squeeze(1))
                for row in self.real]
        return self.indices[query_length]


_ROWS: ContextVar[_Rows | None] = ContextVar("fm_audit_rowwise_rows", default=None)


def _rowwise_sdpa(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor,
                  value: torch.Tensor, attention_mask: torch.Tensor | None, *,
                  scaling: float | None = None, dropout: float = 0.0, **kwargs: Any
                  ) -> tuple[torch.Tensor, None]:
    rows = _ROWS.get()
    batch, heads, query_length, dim = query.shape
    key_length = key.shape[2]
    if rows is None or rows.real.shape != (batch, key_length):
        raise RuntimeError("row-wise attention called outside a pass that set its real tokens")
    if rows.decoding and query_length == 1:
        visible = rows.real
        if attention_mask is not None:
            allowed = attention_mask[:, 0, -1]
            visible = visible & (allowed if allowed.dtype == torch.bool else allowed == 0)
        return decode_attention(query, key, value, visible, scaling or dim ** -0.5), None
    output = query.new_zeros(batch, query_length, heads, dim)
    columns = torch.arange(key_length - query_length, key_length, device=query.device)
    for row, (queries, keys) in enumerate(rows.of(query_length)):
        if not len(queries):
            continue
        if attention_mask is None:
            visible = keys[None, :] <= columns[queries][:, None]
        else:
            visible = attention_mask[row, 0][queries][:, keys]
            if visible.dtype != torch.bool:
                visible = visible == 0
        attended = torch.nn.functional.scaled_dot_product_attention(
            query[row:row + 1, :, queries], key[row:row + 1, :, keys],
            value[row:row + 1, :, keys], attn_mask=visible[None, None], scale=scaling,
            enable_gqa=True)
        output[row, queries] = attended[0].transpose(0, 1)
    return output, None


AttentionInterface.register(NAME, _rowwise_sdpa)
AttentionMaskInterface.register(NAME, sdpa_mask)


@contextmanager
def rowwise_attention(model: Any, real_tokens: torch.Tensor, decoding: bool = False
                      ) -> Iterator[None]:
    """Inside the block (one forward pass), the model's SDPA attention runs row by row on the
    real tokens: `real_tokens` is the pass's attention mask over every key column (cache
    included), 1 where a token is real. `decoding` marks a generator's decoding step, whose rows'
    keys end at the end of the cache: it runs batched on key tiles. Models with another
    attention kind are left as they are."""
    config = model.config
    if config._attn_implementation != "sdpa":
        yield
        return
    config._attn_implementation = NAME
    token = _ROWS.set(_Rows(real_tokens.bool(), decoding))
    try:
        yield
    finally:
        _ROWS.reset(token)
        config._attn_implementation = "sdpa"
