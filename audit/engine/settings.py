"""How the engine batches: row and token limits, chosen per device unless the user sets them."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)

# Bump when a change to the engine changes any response for the same model and request (it
# keys the shared request cache and is recorded in run.json).
# 2: CPU log-likelihoods from packed passes (float32 attention per request), within 4e-5 of 1.
# 3: CPU matrix products on fixed-shape row tiles, attention per request or per row: a
#    request's numbers no longer depend on the others of its pass.
# 4: a generator's decoding steps attend for the whole batch on key tiles counted from the end
#    of the cache (one SDPA call per row before): still independent of the batch, but the
#    logits of generated tokens round differently, so a greedy text may differ.
# 5: decoding steps multiply on tiles of 32 rows (16 before). On an AMD EPYC the products gave
#    the same bits either way, but libraries that pick kernels by row count (MKL on an Intel
#    Xeon with AVX-512) may round a generated token's logits differently.
NUMERICS_VERSION = "fm-audit-engine-5"
CPU_MAX_ROWS = 256
CPU_TOKEN_BUDGET = 8192
GPU_MAX_ROWS = 256
GPU_TOKEN_BUDGET = 65536


@dataclass(frozen=True)
class EngineSettings:
    """Limits on one forward pass.

    `max_rows` caps the sequences in a batch (the user's `--batch-size`); `token_budget` caps
    the padded tokens a batch holds (its inputs plus the cached keys and values it attends to),
    so short requests travel in large batches and long ones in small batches.
    `simulated_memory_tokens`, when set, makes any forward pass above that many tokens raise the
    same out-of-memory error a GPU raises: it lets the fallback path be exercised on a CPU.
    """

    max_rows: int
    token_budget: int
    simulated_memory_tokens: int | None = None

    @classmethod
    def for_device(cls, device: str, batch_size: int | str = "auto",
                   token_budget: int | None = None) -> EngineSettings:
        """Defaults for `device`, with the user's batch size as the row cap when given."""
        gpu = device.startswith("cuda")
        rows = (GPU_MAX_ROWS if gpu else CPU_MAX_ROWS) if batch_size == "auto" else int(batch_size)
        budget = token_budget or (GPU_TOKEN_BUDGET if gpu else CPU_TOKEN_BUDGET)
        return cls(max_rows=rows, token_budget=budget)


def configure_cpu_threads() -> int:
    """Use one intra-op thread per CPU this process may run on, unless the user chose.

    PyTorch's default counts the machine's physical cores and ignores CPU affinity, so in a
    container limited to a few cores it oversubscribes them; OMP_NUM_THREADS, if set, wins.
    """
    if "OMP_NUM_THREADS" in os.environ:
        return torch.get_num_threads()
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    if available and available < torch.get_num_threads():
        torch.set_num_threads(available)
    log.debug("CPU inference uses %d threads", torch.get_num_threads())
    return torch.get_num_threads()


def engine_numerics(device: torch.device | str | None) -> str:
    """What, besides the weights and dtype, decides the engine's numbers on `device`: the
    numerics version, and on a CPU the intra-op thread count. A matrix library may split a
    product's reduction differently across another number of threads, so answers computed with
    one thread count are never taken for another's (on an AMD EPYC with PyTorch's MKL they were
    measured equal at 1 and 2 threads, but that is a property of the library, not a promise)."""
    kind = str(device or "cpu").split(":")[0]
    if kind == "cpu":
        return f"{NUMERICS_VERSION}/cpu-threads-{torch.get_num_threads()}"
    return NUMERICS_VERSION
