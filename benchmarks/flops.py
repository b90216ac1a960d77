"""How much arithmetic the log-likelihood workload needs, and how fast this machine multiplies
matrices of the model's shapes: together, the fraction of the machine's peak a backend reaches.

Useful work counts only what answering the requests needs, whatever a backend pads or repeats:
each distinct context once (options of a question share it), each continuation token after it,
the output projection only at the positions scored, and attention over the keys each position
sees. Norms, activations and rotary embeddings are left out (well under 1% of the work).
"""

from __future__ import annotations

import time
from typing import Any

import torch

from benchmarks.workloads import Workload

PEAK_ROWS = (128, 1024)  # the engine's row tile, and a product eight times taller
GPU_PEAK_ROWS = (4096, 65536)  # a GPU fills its matrix units only with tall products
PEAK_REPEATS = 5


def token_pairs(lm: Any, workload: Workload) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(context, continuation) token ids of each request of the workload, split as lm-eval
    splits them (an empty context becomes the prefix token)."""
    pairs = []
    for instance in workload.instances:
        context, continuation = instance.args
        if context:
            context_ids, continuation_ids = lm._encode_pair(context, continuation)
        else:
            context_ids = [lm.prefix_token_id]
            continuation_ids = lm.tok_encode(continuation, add_special_tokens=False)
        pairs.append((tuple(context_ids), tuple(continuation_ids)))
    return pairs


def _attention_keys(first: int, count: int) -> int:
    """Keys seen in total by `count` positions whose first sees `first` keys (causal)."""
    return count * first + count * (count - 1) // 2


def useful_flops(model: torch.nn.Module, pairs: list[tuple[tuple[int, ...], tuple[int, ...]]]
                 ) -> dict[str, float]:
    """Floating-point operations that log-likelihood requests given as (context, continuation)
    token ids need (a multiply-add counts two), by part: the decoder's linear layers, attention
    scores and weighted sums, and the output projection at the scored positions."""
    head = model.get_output_embeddings()
    linear = sum(m.weight.numel() for m in model.modules()
                 if isinstance(m, torch.nn.Linear) and m is not head)
    config = model.config.get_text_config(decoder=True)
    head_dim = (getattr(config, "head_dim", None)
                or config.hidden_size // config.num_attention_heads)
    width = config.num_attention_heads * head_dim
    layers = config.num_hidden_layers
    tokens = keys = scored = 0
    seen: set[tuple[int, ...]] = set()
    for context, continuation in pairs:
        if context not in seen:
            seen.add(context)
            tokens += len(context)
            keys += _attention_keys(1, len(context))
        fed = len(continuation) - 1
        tokens += fed
        keys += _attention_keys(len(context) + 1, fed)
        scored += len(continuation)
    parts = {"linear": 2.0 * linear * tokens,
             "attention": 4.0 * width * layers * keys,
             "output_projection": 2.0 * head.weight.numel() * scored}
    return {**parts, "total": sum(parts.values()), "tokens": float(tokens),
            "scored_positions": float(scored)}


def _synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so that a timer reads finished products."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _fastest(product: Any, device: torch.device) -> float:
    """Seconds of the fastest of `PEAK_REPEATS` timed calls of `product`, after one warm-up."""
    product()
    _synchronize(device)
    best = float("inf")
    for _ in range(PEAK_REPEATS):
        start = time.perf_counter()
        product()
        _synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def matmul_peak(model: torch.nn.Module, rows: tuple[int, ...] = PEAK_ROWS) -> dict[str, Any]:
    """The best rate this process reaches on the model's own weight shapes, on the model's
    device and in its dtype: for each distinct linear-layer shape, products of `rows` rows
    against the weight, timed `PEAK_REPEATS` times each (the fastest counts: it is the
    machine's attainable rate, the others are slowed by load). On a CPU it runs with the
    process's current thread count."""
    weight_shapes = sorted({tuple(m.weight.shape) for m in model.modules()
                            if isinstance(m, torch.nn.Linear)})
    parameter = next(model.parameters())
    device, dtype = parameter.device, parameter.dtype
    rates: dict[str, float] = {}
    with torch.inference_mode():
        for out_features, in_features in weight_shapes:
            weight = torch.randn(out_features, in_features, device=device, dtype=dtype).t()
            for count in rows:
                inputs = torch.randn(count, in_features, device=device, dtype=dtype)
                best = _fastest(lambda: torch.mm(inputs, weight), device)  # noqa: B023
                rates[f"{count}x{in_features}x{out_features}"] = (
                    2.0 * count * in_features * out_features / best)
    return {"flops_per_s": max(rates.values()), "threads": torch.get_num_threads(),
            "device": str(device), "dtype": str(dtype).removeprefix("torch."),
            "by_shape": rates}


def square_peak(device: torch.device, dtype: torch.dtype, size: int = 8192) -> float:
    """FLOP/s of one large square product on `device` in `dtype`: the ceiling a matrix unit
    reaches when shapes do not limit it (the model's shapes are far smaller)."""
    with torch.inference_mode():
        left = torch.randn(size, size, device=device, dtype=dtype)
        right = torch.randn(size, size, device=device, dtype=dtype)
        return 2.0 * size**3 / _fastest(lambda: torch.mm(left, right), device)
