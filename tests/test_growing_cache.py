"""The in-place key/value cache holds exactly what transformers' concatenating cache holds, and
appends without copying what it already has."""

from __future__ import annotations

import torch
from transformers import DynamicCache

from audit.engine.growing_cache import GROWTH, GrowingCache


def _steps(generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A prefill of 5 tokens, then GROWTH + 3 single-token steps (one growth of the buffer)."""
    widths = [5] + [1] * (GROWTH + 3)
    return [(torch.randn(2, 3, width, 4, generator=generator),
             torch.randn(2, 3, width, 4, generator=generator)) for width in widths]


def test_growing_cache_equals_dynamic_cache_and_appends_in_place() -> None:
    steps = _steps(torch.Generator().manual_seed(0))
    growing, reference = GrowingCache(), DynamicCache()
    copies = 0
    for keys, values in steps:
        before = growing.layers[0].key_room.data_ptr() if growing.layers else None
        got = growing.update(keys, values, 0)
        expected = reference.update(keys, values, 0)
        assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
        copies += before is not None and growing.layers[0].key_room.data_ptr() != before
    assert growing.get_seq_length() == 5 + GROWTH + 3
    assert copies == 1  # the buffer grew once: 5 + 64 free columns, then more


def test_a_cache_built_from_tensors_and_then_cut_to_rows_keeps_growing_correctly() -> None:
    keys, values = torch.randn(3, 2, 7, 4), torch.randn(3, 2, 7, 4)
    cache = GrowingCache([(keys, values)])
    cache.layers[0].batch_select_indices(torch.tensor([2, 0]))
    new_keys, new_values = torch.randn(2, 2, 1, 4), torch.randn(2, 2, 1, 4)
    got_keys, got_values = cache.update(new_keys, new_values, 0)
    assert torch.equal(got_keys, torch.cat([keys[[2, 0]], new_keys], dim=2))
    assert torch.equal(got_values, torch.cat([values[[2, 0]], new_values], dim=2))
