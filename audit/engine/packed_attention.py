"""Attention over packed requests: many requests laid end to end in one row, each attending
only to its own tokens.

A pass of packed requests holds no padding, so every matrix product works on real tokens
only. Each request (a segment of the row) gets its own attention call on copies of its own
queries, keys and values, so its numbers are the same whichever requests share its pass: the
computation is exact float32, with no need for float64 to hide a padded length.

A segment is a prefix (a shared context) followed by branches (continuations of it): the
prefix attends causally to itself; each branch attends to the whole prefix and causally to
itself, never to another branch. Positions restart at every segment and each branch continues
the prefix's positions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import torch
from transformers.masking_utils import AttentionMaskInterface
from transformers.modeling_utils import AttentionInterface

from audit.errors import AuditError

NAME = "fm_audit_packed"


class PackingUnsupportedError(AuditError):
    """The model's attention takes options the packed attention does not implement."""


@dataclass(frozen=True)
class Segment:
    """One request's stretch of a packed row: `prefix` tokens, then each branch's tokens."""

    start: int
    prefix: int
    branches: tuple[int, ...]

    @property
    def length(self) -> int:
        return self.prefix + sum(self.branches)

    def mask(self) -> torch.Tensor | None:
        """Which keys each query may see (True = visible); None when plainly causal."""
        if sum(1 for width in self.branches if width) <= 1:
            return None
        mask = torch.ones(self.length, self.length, dtype=torch.bool).tril_()
        start = self.prefix
        for width in self.branches:
            mask[start + width:, start:start + width] = False
            start += width
        return mask

    def positions(self) -> list[int]:
        """Position ids of the segment's tokens: the prefix's, then each branch continuing it."""
        ids = list(range(self.prefix))
        for width in self.branches:
            ids.extend(range(self.prefix, self.prefix + width))
        return ids


@dataclass
class _Plan:
    segments: Sequence[Segment]
    masks: Sequence[torch.Tensor | None]
    calls: int = 0


_PLAN: ContextVar[_Plan | None] = ContextVar("fm_audit_packed_plan", default=None)
UNSUPPORTED_OPTIONS = ("sliding_window", "softcap", "s_aux")


def _packed_sdpa(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor,
                 value: torch.Tensor, attention_mask: torch.Tensor | None, *,
                 scaling: float | None = None, dropout: float = 0.0, **kwargs: Any
                 ) -> tuple[torch.Tensor, None]:
    plan = _PLAN.get()
    used = [name for name in UNSUPPORTED_OPTIONS if kwargs.get(name) is not None]
    if plan is None or used or dropout or query.shape[0] != 1:
        raise PackingUnsupportedError(
            f"packed attention called outside a packed pass or with options it does not "
            f"implement ({used or 'batch of several rows'})",
            fix="report the model's architecture to fm-audit's maintainers.")
    plan.calls += 1
    heads, length, dim = query.shape[1:]
    repeats = heads // key.shape[1]
    output = query.new_empty(length, heads, dim)
    for segment, mask in zip(plan.segments, plan.masks, strict=True):
        span = slice(segment.start, segment.start + segment.length)
        keys = key[:, :, span].repeat_interleave(repeats, dim=1)
        values = value[:, :, span].repeat_interleave(repeats, dim=1)
        attended = torch.nn.functional.scaled_dot_product_attention(
            query[:, :, span].contiguous(), keys, values, attn_mask=mask,
            is_causal=mask is None, scale=scaling)
        output[span] = attended[0].transpose(0, 1)
    return output.unsqueeze(0), None


def _no_mask(*args: Any, **kwargs: Any) -> None:
    """Packed attention builds its masks per segment; the model's full mask is not needed."""
    return None


AttentionInterface.register(NAME, _packed_sdpa)
AttentionMaskInterface.register(NAME, _no_mask)


@contextmanager
def packed_attention(model: Any, segments: Sequence[Segment]) -> Iterator[None]:
    """Inside the block (one forward pass), the model's attention keeps each segment to
    itself. Raises after the pass if not every layer's attention went through the packed
    attention: a layer that mixed the segments would have given wrong numbers."""
    config = model.config
    if config._attn_implementation != "sdpa":
        raise PackingUnsupportedError(
            f"packed attention replaces SDPA attention; this model uses "
            f"{config._attn_implementation!r}", fix="load the model with SDPA attention.")
    plan = _Plan(segments, [segment.mask() for segment in segments])
    config._attn_implementation = NAME
    token = _PLAN.set(plan)
    try:
        yield
    finally:
        _PLAN.reset(token)
        config._attn_implementation = "sdpa"
    layers = config.get_text_config(decoder=True).num_hidden_layers
    if plan.calls != layers:
        raise PackingUnsupportedError(
            f"{plan.calls} of the model's {layers} layers attended through packed attention",
            fix="report the model's architecture to fm-audit's maintainers.")
