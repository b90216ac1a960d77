"""Token-budget batching, and the out-of-memory fallback that halves a batch and retries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

from audit.errors import AuditError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MAX_PADDING = 1.25
# Padding tokens a batch may always carry, whatever the ratio: every forward pass has a fixed
# cost (on 2 CPU cores a pass of 16 tokens takes ~0.15 s, as long as ~50 tokens of a large
# pass), so merging short items of unequal length beats running each length on its own.
PADDING_SLACK = 512


class DeviceMemoryError(AuditError):
    """A single request does not fit in device memory even alone."""


def budget_batches(items: Sequence[T], cost: Callable[[T], int], max_rows: int,
                   token_budget: int, max_padding: float = MAX_PADDING,
                   padding_slack: int = PADDING_SLACK) -> list[list[T]]:
    """Consecutive batches of `items` (sorted longest first by the caller) whose padded size
    (rows x the longest item's cost) stays within `token_budget`, at most `max_rows` long, and
    at most `max_padding` times the tokens the items really hold, or `padding_slack` tokens
    more, whichever allows more (so a batch of short items is not padded to one long item's
    length, but a handful of short items do not each pay for a pass of their own).

    Because the first item of a batch is its longest, the padded size is known on admission.
    An item larger than the budget travels alone.
    """
    batches: list[list[T]] = []
    current: list[T] = []
    width = real = 0
    for item in items:
        size = cost(item)
        padded = max(width, size) * (len(current) + 1)
        allowed = max(max_padding * (real + size), real + size + padding_slack)
        if current and (len(current) >= max_rows or padded > token_budget or padded > allowed):
            batches.append(current)
            current, width, real = [], 0, 0
        current.append(item)
        width, real = max(width, size), real + size
    if current:
        batches.append(current)
    return batches


def packed_batches(items: Sequence[T], sizes: Callable[[T], tuple[int, ...]],
                   limits: tuple[int, ...], max_items: int) -> list[list[T]]:
    """Consecutive batches of `items` laid end to end (no padding): each batch holds at most
    `max_items` items and the sum of each of their `sizes` stays within the matching entry of
    `limits`. An item over a limit on its own travels alone."""
    batches: list[list[T]] = []
    current: list[T] = []
    totals = [0] * len(limits)
    for item in items:
        size = sizes(item)
        grown = [total + part for total, part in zip(totals, size, strict=True)]
        if current and (len(current) >= max_items
                        or any(g > limit for g, limit in zip(grown, limits, strict=True))):
            batches.append(current)
            current, grown = [], list(size)
        current.append(item)
        totals = grown
    if current:
        batches.append(current)
    return batches


def free_device_memory() -> None:
    """Return cached GPU blocks to the allocator after an out-of-memory error."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class OomFallback:
    """Runs a batch; on out-of-memory halves it, retries both halves, and remembers the smaller
    row cap for the batches that follow (so one error does not repeat on every batch)."""

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows

    def run(self, batch: list[T], fn: Callable[[list[T]], list[R]], what: str) -> list[R]:
        """`fn(batch)`, split in halves as often as memory requires; results stay in order."""
        if len(batch) > self.max_rows:
            return [result for start in range(0, len(batch), self.max_rows)
                    for result in self.run(batch[start:start + self.max_rows], fn, what)]
        try:
            return fn(batch)
        except torch.OutOfMemoryError as exc:
            free_device_memory()
            if len(batch) == 1:
                raise DeviceMemoryError(
                    f"one {what} request does not fit in device memory: {str(exc)[:200]}",
                    fix="use a smaller --dtype (e.g. bfloat16), a device with more memory, "
                        "or --device cpu.") from exc
            half = (len(batch) + 1) // 2
            self.max_rows = min(self.max_rows, half)
            log.warning("Out of device memory on a %s batch of %d; retrying as batches of %d "
                        "(later batches capped at %d rows)", what, len(batch), half,
                        self.max_rows)
            return self.run(batch[:half], fn, what) + self.run(batch[half:], fn, what)
