"""The batched attention of a decoding step: it computes softmax attention, and a row's output
is the same to the bit whatever else the batch holds (other rows, their number, the padding in
front of the row's keys and what that padding contains)."""

from __future__ import annotations

import random

import pytest
import torch

from audit.engine.decode_attention import KEY_TILE, decode_attention

HEADS, KV_HEADS, DIM = 9, 3, 64  # SmolLM2-135M's grouped-query layout


def _batch(lengths: list[int], width: int, generator: torch.Generator
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random queries, keys and values; row r's last `lengths[r]` keys are visible."""
    rows = len(lengths)
    query = torch.randn(rows, HEADS, 1, DIM, generator=generator)
    key = torch.randn(rows, KV_HEADS, width, DIM, generator=generator)
    value = torch.randn(rows, KV_HEADS, width, DIM, generator=generator)
    visible = torch.arange(width)[None, :] >= (width - torch.tensor(lengths))[:, None]
    return query, key, value, visible


def test_equals_softmax_attention_over_each_rows_visible_keys() -> None:
    """Against SDPA run on each row's visible keys alone (its own blocking, so within float
    rounding, not to the bit); lengths below, at and across tile boundaries, a hole in the
    visibility (a sliding window's mask can hide keys in the middle)."""
    generator = torch.Generator().manual_seed(0)
    lengths = [1, KEY_TILE - 1, KEY_TILE, KEY_TILE + 1, 3 * KEY_TILE + 5]
    query, key, value, visible = _batch(lengths, 3 * KEY_TILE + 9, generator)
    visible[4, -KEY_TILE - 3:-KEY_TILE + 2] = False
    output = decode_attention(query, key, value, visible, 0.125)
    assert output.shape == (len(lengths), 1, HEADS, DIM)
    for row in range(len(lengths)):
        keys = visible[row].nonzero().squeeze(1)
        expected = torch.nn.functional.scaled_dot_product_attention(
            query[row:row + 1], key[row:row + 1, :, keys].repeat_interleave(3, dim=1),
            value[row:row + 1, :, keys].repeat_interleave(3, dim=1), scale=0.125)
        assert torch.allclose(output[row, 0], expected[0, :, 0], atol=2e-6, rtol=0)


@pytest.mark.parametrize("seed", range(3))
def test_a_rows_output_does_not_depend_on_the_rest_of_the_batch(seed: int) -> None:
    """One row (random length up to 5 tiles) placed in two random batches: other rows of
    random lengths, 1 to 32 rows, 0 to 200 columns of padding before its keys (so its front
    tile is sometimes the short front tile, sometimes a full one), padding keys and values of
    other contents. Its output must be bit-identical."""
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(8):
        length = rng.randint(1, 5 * KEY_TILE)
        own = _batch([length], length, generator)
        outputs = []
        for _ in range(2):
            rows, width = rng.randint(1, 32), length + rng.randint(0, 200)
            place = rng.randrange(rows)
            lengths = [rng.randint(1, width) for _ in range(rows)]
            lengths[place] = length
            query, key, value, visible = _batch(lengths, width, generator)
            key[:, :, :width - length][~visible[:, None, :width - length].expand(
                -1, KV_HEADS, -1)] = rng.choice([0.0, 1e3, -7.5])
            query[place] = own[0][0]
            key[place, :, width - length:] = own[1][0]
            value[place, :, width - length:] = own[2][0]
            outputs.append(decode_attention(query, key, value, visible, 0.125)[place])
        assert torch.equal(outputs[0], outputs[1]), length
