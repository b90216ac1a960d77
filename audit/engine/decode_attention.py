"""Attention of a decoding step for the whole batch at once, each row's numbers its own.

In a decoding step every sequence feeds one query, and its keys are the real tokens at the end
of the batch's shared, left-padded cache: a row's keys sit at the same distance from the end of
the key axis whatever the batch holds, while the padding in front of them follows the batch.
A single attention kernel over the padded key axis would block its sums by the padded length,
so the same row would round differently beside longer rows (measured: SDPA on CPU gives other
bits for a row alone and in a batch). Here the key axis is cut into tiles of `KEY_TILE` keys
counted from its end, so a key's tile and its place in it depend on its distance from the end
only; the front tile, when shorter, is copied into a zero tile of full size. Every product then
has one shape (a tile of keys against the row's queries), and the row's sums run in a fixed
order: within a tile in the kernel's order for that shape, across tiles from the end. Masked
keys get a score of minus infinity, hence a weight of exactly zero, and add exactly nothing to
the running sums (a tile with no visible key of a row adds 0 to it). So a row's output depends
on its own query, keys, values and mask only: not on the other rows, their number or the padding.
"""

from __future__ import annotations

import torch

KEY_TILE = 64


def _key_tiles(key: torch.Tensor, value: torch.Tensor, visible: torch.Tensor
               ) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(keys, values, visibility) per tile of `KEY_TILE` keys, counted from the end of the key
    axis: keys and values as (batch * kv heads, tile, dim), visibility as (batch, tile)."""
    batch, groups, length, dim = key.shape
    tiles = []
    for end in range(length, 0, -KEY_TILE):
        start = end - KEY_TILE
        if start >= 0:
            tile = slice(start, end)
            tiles.append((key[:, :, tile].reshape(batch * groups, KEY_TILE, dim),
                          value[:, :, tile].reshape(batch * groups, KEY_TILE, dim),
                          visible[:, tile]))
            continue
        keys = key.new_zeros(batch, groups, KEY_TILE, dim)
        values = value.new_zeros(batch, groups, KEY_TILE, dim)
        shown = visible.new_zeros(batch, KEY_TILE)
        keys[:, :, -end:] = key[:, :, :end]
        values[:, :, -end:] = value[:, :, :end]
        shown[:, -end:] = visible[:, :end]
        tiles.append((keys.view(batch * groups, KEY_TILE, dim),
                      values.view(batch * groups, KEY_TILE, dim), shown))
    return tiles


def decode_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                     visible: torch.Tensor, scaling: float) -> torch.Tensor:
    """Softmax attention of one query per row: `query` (batch, heads, 1, dim), `key` and
    `value` (batch, kv heads, keys, dim; grouped heads share a kv head), `visible` (batch, keys)
    True where the row may attend. Returns (batch, 1, heads, dim), the layout the model's
    attention output takes. Every row needs at least one visible key."""
    batch, heads, _, dim = query.shape
    groups = key.shape[1]
    queries = (query * scaling).reshape(batch * groups, heads // groups, dim)
    scored = []
    for keys, values, shown in _key_tiles(key, value, visible):
        scores = torch.bmm(queries, keys.transpose(1, 2)).view(batch, heads, KEY_TILE)
        scored.append((scores.masked_fill_(~shown[:, None, :], float("-inf")), values))
    top = scored[0][0].amax(dim=-1)
    for scores, _ in scored[1:]:
        top = torch.maximum(top, scores.amax(dim=-1))
    total = torch.zeros_like(top)
    output = query.new_zeros(batch * groups, heads // groups, dim)
    for scores, values in scored:
        weights = torch.exp(scores - top[..., None])
        total = total + weights.sum(dim=-1)
        output = output + torch.bmm(weights.view(batch * groups, heads // groups, KEY_TILE),
                                    values)
    return (output.view(batch, heads, dim) / total[..., None]).unsqueeze(1)
