"""Attention computed in float64 on CPU, so that a sequence's scores do not depend on its batch.

Every other operation of a decoder treats each token row on its own, but attention reduces
over the keys, and the padded key length changes with the other sequences of the batch; in
float32 a different length changes the rounding of those reductions (by about 1e-5 in a
log-likelihood). Computed in float64 and rounded back to the model's dtype, the result is the
same float32 number whatever the padding. The cost is small: for the short sequences of an
audit, attention is a few percent of the time; matrix products dominate.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
from transformers.modeling_utils import AttentionInterface

NAME = "fm_audit_sdpa_float64"


def _sdpa_float64(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor,
                  value: torch.Tensor, attention_mask: torch.Tensor | None, **kwargs: Any
                  ) -> tuple[torch.Tensor, None]:
    if attention_mask is not None and attention_mask.dtype != torch.bool:
        attention_mask = attention_mask.double()
    output, weights = sdpa_attention_forward(module, query.double(), key.double(),
                                             value.double(), attention_mask, **kwargs)
    return output.to(query.dtype), weights


AttentionInterface.register(NAME, _sdpa_float64)
AttentionMaskInterface.register(NAME, sdpa_mask)


@contextmanager
def float64_attention(model: Any) -> Iterator[None]:
    """Run the model's SDPA attention in float64 inside the block; other attention kinds
    (eager, flash) are left as they are."""
    config = model.config
    previous = config._attn_implementation
    if previous != "sdpa":
        yield
        return
    config._attn_implementation = NAME
    try:
        yield
    finally:
        config._attn_implementation = previous
