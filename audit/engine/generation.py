"""Batched greedy generation with per-sequence stopping.

A batch holds up to `max_rows` sequences whose prompts plus generation budgets fit the token
budget. Each step feeds every active sequence its last token against one shared, left-padded
key/value cache. A sequence that produces an end-of-sequence token, a stop string, or its
token budget leaves the batch at once, and waiting prompts are prefilled and joined to the
cache (both sides left-padded to a common length) as soon as there is room, so the batch stays
full and no step is spent on finished rows.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache

from audit.engine.batching import DeviceMemoryError, OomFallback, free_device_memory
from audit.engine.forward import ModelRunner
from audit.engine.growing_cache import GrowingCache

log = logging.getLogger(__name__)


@dataclass
class _Sequence:
    index: int
    prompt: list[int]
    generated: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class StopRule:
    """When a sequence is finished: token ids that end it, strings that end it (checked on the
    text decoded with special tokens kept), and the most tokens it may add."""

    eos_ids: frozenset[int]
    strings: tuple[str, ...]
    max_new_tokens: int
    decode: Callable[[list[int]], str]

    def finished(self, generated: list[int]) -> bool:
        if generated[-1] in self.eos_ids or len(generated) >= self.max_new_tokens:
            return True
        text = self.decode(generated)
        return any(stop and stop in text for stop in self.strings)


def _left_pad(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    missing = width - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


class _Batch:
    """The active sequences, their shared cache, attention mask and next positions."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """No active sequence."""
        self.sequences: list[_Sequence] = []
        self.cache: DynamicCache | None = None
        self.mask = torch.zeros((0, 0), dtype=torch.long)
        self.positions = torch.zeros(0, dtype=torch.long)

    def join(self, sequences: list[_Sequence], cache: DynamicCache, mask: torch.Tensor) -> None:
        """Add prefilled sequences; both caches are left-padded to the longer length."""
        if self.cache is None:
            self.sequences, self.cache, self.mask = list(sequences), cache, mask
            self.positions = mask.sum(dim=1)
            return
        width = max(self.mask.shape[1], mask.shape[1])
        merged = [(torch.cat([_left_pad(k1, width, 2), _left_pad(k2, width, 2)]),
                   torch.cat([_left_pad(v1, width, 2), _left_pad(v2, width, 2)]))
                  for (k1, v1, _), (k2, v2, _) in zip(self.cache, cache, strict=True)]
        self.cache = GrowingCache(merged)
        self.mask = torch.cat([_left_pad(self.mask, width, 1), _left_pad(mask, width, 1)])
        self.positions = torch.cat([self.positions, mask.sum(dim=1)])
        self.sequences.extend(sequences)

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows`, and drop cache columns that no remaining row attends to.

        The cache is also cut to the mask's width: a step that failed part-way (out of memory)
        may have appended keys to some layers, and those are discarded here.
        """
        if not rows:
            self.clear()
            return
        index = torch.tensor(rows, dtype=torch.long, device=self.mask.device)
        mask = self.mask[index]
        start, end = int(mask.any(dim=0).long().argmax()), mask.shape[1]
        self.cache = GrowingCache([(k[index, :, start:end], v[index, :, start:end])
                                   for k, v, _ in self.cache])  # type: ignore[union-attr]
        self.mask = mask[:, start:]
        self.positions = self.positions[index]
        self.sequences = [self.sequences[r] for r in rows]


class GreedyGenerator:
    """Generates greedy continuations for token prompts; returns the new tokens of each."""

    def __init__(self, runner: ModelRunner, fallback: OomFallback, pad_id: int) -> None:
        self.runner = runner
        self.fallback = fallback
        self.pad_id = pad_id

    def generate(self, prompts: list[list[int]], rule: StopRule) -> list[list[int]]:
        """New tokens per prompt (including a final end-of-sequence token, if produced)."""
        order = sorted(range(len(prompts)), key=lambda i: (-len(prompts[i]), i))
        waiting = deque(_Sequence(i, prompts[i]) for i in order)
        done: dict[int, list[int]] = {}
        batch = _Batch()
        while waiting or batch.sequences:
            admitted = self._admit(waiting, batch, rule.max_new_tokens)
            try:
                if admitted:
                    self._prefill(admitted, batch)
                else:
                    self._step(batch)
            except torch.OutOfMemoryError as exc:
                self._shrink(batch, admitted, waiting, exc)
                continue
            finished = [r for r, s in enumerate(batch.sequences)
                        if s.generated and rule.finished(s.generated)]
            for row in finished:
                sequence = batch.sequences[row]
                done[sequence.index] = sequence.generated
            if finished:
                batch.keep([r for r in range(len(batch.sequences)) if r not in set(finished)])
        return [done[i] for i in range(len(prompts))]

    def _admit(self, waiting: deque[_Sequence], batch: _Batch, budget: int) -> list[_Sequence]:
        """Waiting prompts that fit beside the active ones (at least one if none is active)."""
        settings = self.runner.settings
        held = sum(len(s.prompt) + budget for s in batch.sequences)
        admitted: list[_Sequence] = []
        while waiting and len(batch.sequences) + len(admitted) < self.fallback.max_rows:
            cost = len(waiting[0].prompt) + budget
            if (batch.sequences or admitted) and held + cost > settings.token_budget:
                break
            admitted.append(waiting.popleft())
            held += cost
        return admitted

    def _prefill(self, sequences: list[_Sequence], batch: _Batch) -> None:
        device = self.runner.device
        width = max(len(s.prompt) for s in sequences)
        ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long, device=device)
        mask = torch.zeros_like(ids)
        for row, sequence in enumerate(sequences):
            ids[row, width - len(sequence.prompt):] = torch.tensor(sequence.prompt)
            mask[row, width - len(sequence.prompt):] = 1
        positions = (mask.cumsum(dim=1) - 1).masked_fill(mask == 0, 1)
        keep = torch.zeros_like(ids, dtype=torch.bool)
        keep[:, -1] = True
        logits, cache = self.runner(ids, attention_mask=mask, position_ids=positions, keep=keep,
                                    use_cache=True)
        for sequence, token in zip(sequences, logits.argmax(dim=-1).tolist(), strict=True):
            sequence.generated = [token]
        batch.join(sequences, cache, mask)  # type: ignore[arg-type]

    def _step(self, batch: _Batch) -> None:
        device = self.runner.device
        ids = torch.tensor([[s.generated[-1]] for s in batch.sequences], device=device)
        mask = torch.cat([batch.mask, batch.mask.new_ones((len(ids), 1))], dim=1)
        keep = torch.ones_like(ids, dtype=torch.bool)
        logits, cache = self.runner(ids, attention_mask=mask, position_ids=batch.positions[:, None],
                                    past=batch.cache, keep=keep, use_cache=True, decoding=True)
        for sequence, token in zip(batch.sequences, logits.argmax(dim=-1).tolist(), strict=True):
            sequence.generated.append(token)
        batch.cache, batch.mask, batch.positions = cache, mask, batch.positions + 1

    def _shrink(self, batch: _Batch, admitted: list[_Sequence], waiting: deque[_Sequence],
                error: torch.OutOfMemoryError) -> None:
        """After out-of-memory: put the newest half of the sequences back in the queue (they
        restart from their prompt; greedy decoding gives them the same tokens again)."""
        free_device_memory()
        active = len(batch.sequences) + len(admitted)
        if active <= 1:
            raise DeviceMemoryError(
                f"one generation request does not fit in device memory: {str(error)[:200]}",
                fix="use a smaller --dtype (e.g. bfloat16), a smaller max_gen_toks, or "
                    "--device cpu.") from error
        self.fallback.max_rows = max(1, active // 2)
        returned = list(admitted)
        if not admitted:
            keep = len(batch.sequences) - len(batch.sequences) // 2
            returned = batch.sequences[keep:]
            batch.keep(list(range(keep)))
        for sequence in reversed(returned):
            sequence.generated = []
            waiting.appendleft(sequence)
        log.warning("Out of device memory while generating with %d sequences; continuing with "
                    "at most %d", active, self.fallback.max_rows)
