"""Matrix products on fixed-shape row tiles, so a token's numbers never depend on its pass.

A CPU matrix library picks its kernel, its blocking and its split across threads from the
shape of the product: the same input row multiplied as one of 40 rows or one of 600 rows can
round differently (measured with PyTorch's MKL: on an AMD EPYC only products of 1 to 3 rows
differ; on an Intel Xeon with AVX-512, rows differed between passes of tens and of hundreds of
rows). While `TiledLinears` is active, every linear layer multiplies its input as a sequence of
tiles of exactly `tile_rows` rows (the last tile padded with zero rows), each in a freshly
allocated, aligned buffer. Every product the model makes then has one shape, whatever the
batch, so each row is computed by the same kernel with the same reduction order: the result for
a row depends only on the row, the weights and the thread count (the thread count is part of
the engine's numerics identity for that reason).

The other per-token operations of a decoder (norms, activations, rotary embeddings, the
log-softmax) reduce within one row at most, in an order set by the row's own length; attention
is computed per request (see `packed_attention` and `attention`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

# Rows per tile of a pass that holds many tokens (log-likelihood passes, generation prefill),
# and of a decoding step (one token per sequence). Two sizes, each fixed for its kind of pass:
# a decoding step of a few sequences padded to 128 rows would cost 4x to 128x its work. At 32
# rows a step of 32 sequences (a typical batch) makes one product per layer where 16-row tiles
# made two: measured on the model's shapes (2 threads, AMD EPYC) one layer's products for 32
# rows took 1.84 ms against 2.44 ms, fastest of 240 timings each.
PASS_TILE_ROWS = 128
DECODE_TILE_ROWS = 32


def tiled_matmul(inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                 tile_rows: int) -> torch.Tensor:
    """`inputs @ weight.T + bias` computed tile by tile: each tile is `tile_rows` rows of a
    fresh zero-padded buffer, so every product has the same shape and alignment."""
    shape = inputs.shape
    flat = inputs.reshape(-1, shape[-1])
    rows = flat.shape[0]
    padded = -(-rows // tile_rows) * tile_rows
    buffer = flat.new_zeros(padded, flat.shape[1])
    buffer[:rows] = flat
    output = flat.new_empty(padded, weight.shape[0])
    transposed = weight.t()
    for start in range(0, padded, tile_rows):
        tile = slice(start, start + tile_rows)
        if bias is None:
            torch.mm(buffer[tile], transposed, out=output[tile])
        else:
            torch.addmm(bias, buffer[tile], transposed, out=output[tile])
    return output[:rows].reshape(*shape[:-1], weight.shape[0])


def _tiled_forward(module: torch.nn.Linear, tile_rows: int) -> Callable[[torch.Tensor],
                                                                         torch.Tensor]:
    def forward(inputs: torch.Tensor) -> torch.Tensor:
        return tiled_matmul(inputs, module.weight, module.bias, tile_rows)
    return forward


class TiledLinears:
    """Switches every `torch.nn.Linear` of a model to tiled products inside `active()`."""

    def __init__(self, model: Any) -> None:
        self.linears = [m for m in model.modules() if type(m) is torch.nn.Linear]
        self.untiled = sorted({
            type(m).__name__ for m in model.modules()
            if not isinstance(m, (torch.nn.Linear, torch.nn.Embedding))
            and any(p.dim() >= 2 for p in m.parameters(recurse=False))})
        """Kinds of module that hold a weight matrix but are not plain linear layers: their
        products are not tiled, so the model's numbers may depend on its batch (recorded in
        run.json)."""

    @contextmanager
    def active(self, tile_rows: int) -> Iterator[None]:
        """Tiled products of `tile_rows` rows inside the block; the model's own forward after."""
        for linear in self.linears:
            linear.forward = _tiled_forward(linear, tile_rows)  # type: ignore[method-assign]
        try:
            yield
        finally:
            for linear in self.linears:
                del linear.forward
