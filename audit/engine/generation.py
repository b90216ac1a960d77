"""Batched greedy generation with per-sequence stopping.

A batch holds up to `max_rows` sequences whose prompts plus generation budgets fit the token
budget. Each step feeds every active sequence its last token against one shared, left-padded
key/value cache. A sequence that produces an end-of-sequence token, a stop string, or its
token budget leaves the batch at once, and waiting prompts are prefilled and joined to the
cache (both sides left-padded to a common length) when there is room for a group of them
(`admission_count`), so the batch stays nearly full and no step is spent on finished rows.

On a CPU, where a decoding step multiplies on tiles of a fixed number of rows, a batch larger
than one tile holds whole tiles (a step of 33 sequences costs as much as one of 64), and
prompts are prefilled packed end to end in one row, each attending to itself alone, so no
product runs on padding. Neither choice changes a sequence's numbers: every row's are its own.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache

from audit.engine.batching import DeviceMemoryError, OomFallback, free_device_memory
from audit.engine.forward import ModelRunner
from audit.engine.growing_cache import GrowingCache
from audit.engine.packed_attention import Segment

log = logging.getLogger(__name__)

# While sequences are decoding, waiting prompts join only in groups of at least a quarter of
# the batch they make (or all that wait): each admission costs a prefill pass and a copy of the
# whole cache, which one prompt at a time would pay once per finished sequence.
REFILL_SHARE = 4


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


def admission_count(costs: Sequence[int], active: int, held: int, max_rows: int,
                    token_budget: int, tile_rows: int | None) -> int:
    """How many waiting prompts (their token costs, in queue order) join a batch of `active`
    sequences that holds `held` tokens. As many as `max_rows` and `token_budget` allow (at
    least one into an empty batch); cut to whole decoding tiles of `tile_rows` when the batch
    would exceed one tile, since a partly filled tile costs a full one; and none while
    sequences are decoding unless the group is at least a quarter of the batch it makes or
    takes every waiting prompt, since each admission costs a prefill and a copy of the cache."""
    count = 0
    while count < len(costs) and active + count < max_rows:
        if (active or count) and held + costs[count] > token_budget:
            break
        held += costs[count]
        count += 1
    if tile_rows and active + count > tile_rows:
        count = max(0, (active + count) // tile_rows * tile_rows - active)
    if active and count < len(costs) and count * REFILL_SHARE < active + count:
        return 0
    return count


def _left_pad(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    missing = width - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


def _left_padded_mask(lengths: list[int], width: int, device: torch.device) -> torch.Tensor:
    """Rows of `width` columns whose last `length` entries are 1: each prompt's real tokens."""
    mask = torch.zeros(len(lengths), width, dtype=torch.long, device=device)
    for row, length in enumerate(lengths):
        mask[row, width - length:] = 1
    return mask


def _unpack(states: torch.Tensor, segments: list[Segment], width: int) -> torch.Tensor:
    """A packed pass's keys or values (1, heads, tokens, dim) as one left-padded row per
    segment: (segments, heads, width, dim), zeros in front of each segment's own."""
    rows = states.new_zeros(len(segments), states.shape[1], width, states.shape[3])
    for row, segment in enumerate(segments):
        rows[row, :, width - segment.prefix:] = states[0, :, segment.start:
                                                       segment.start + segment.prefix]
    return rows


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

    def __init__(self, runner: ModelRunner, fallback: OomFallback, pad_id: int,
                 packed_prefill: bool = False) -> None:
        """`packed_prefill`: prefill prompts end to end in one row (models whose attention
        the packed path computes correctly); else in a left-padded batch."""
        self.runner = runner
        self.fallback = fallback
        self.pad_id = pad_id
        self.packed_prefill = packed_prefill

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
        """The waiting prompts that join the batch now (`admission_count`)."""
        held = sum(len(s.prompt) + budget for s in batch.sequences)
        costs = [len(s.prompt) + budget for s in waiting]
        count = admission_count(costs, len(batch.sequences), held, self.fallback.max_rows,
                                self.runner.settings.token_budget, self.runner.decode_tile_rows)
        return [waiting.popleft() for _ in range(count)]

    def _prefill(self, sequences: list[_Sequence], batch: _Batch) -> None:
        """Run the prompts, give each its first new token, and join them to the batch."""
        if self.packed_prefill:
            logits, cache, mask = self._packed_pass(sequences)
        else:
            logits, cache, mask = self._padded_pass(sequences)
        for sequence, token in zip(sequences, logits.argmax(dim=-1).tolist(), strict=True):
            sequence.generated = [token]
        batch.join(sequences, cache, mask)

    def _packed_pass(self, sequences: list[_Sequence]
                     ) -> tuple[torch.Tensor, GrowingCache, torch.Tensor]:
        """The prompts end to end in one row, each attending only to itself; the cache is
        then laid out as a left-padded batch, one row per prompt."""
        device = self.runner.device
        segments, ids, positions = [], [], []
        for sequence in sequences:
            segments.append(Segment(len(ids), len(sequence.prompt), ()))
            ids.extend(sequence.prompt)
            positions.extend(range(len(sequence.prompt)))
        keep = torch.zeros(1, len(ids), dtype=torch.bool, device=device)
        keep[0, [segment.start + segment.prefix - 1 for segment in segments]] = True
        logits, packed = self.runner(torch.tensor([ids], device=device),
                                     position_ids=torch.tensor([positions], device=device),
                                     keep=keep, use_cache=True, segments=segments)
        width = max(segment.prefix for segment in segments)
        mask = _left_padded_mask([segment.prefix for segment in segments], width, device)
        cache = GrowingCache([(_unpack(keys, segments, width), _unpack(values, segments, width))
                              for keys, values, _ in packed])  # type: ignore[union-attr]
        return logits, cache, mask

    def _padded_pass(self, sequences: list[_Sequence]
                     ) -> tuple[torch.Tensor, DynamicCache, torch.Tensor]:
        """The prompts as one left-padded batch."""
        device = self.runner.device
        width = max(len(s.prompt) for s in sequences)
        ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long, device=device)
        for row, sequence in enumerate(sequences):
            ids[row, width - len(sequence.prompt):] = torch.tensor(sequence.prompt)
        mask = _left_padded_mask([len(s.prompt) for s in sequences], width, device)
        positions = (mask.cumsum(dim=1) - 1).masked_fill(mask == 0, 1)
        keep = torch.zeros_like(ids, dtype=torch.bool)
        keep[:, -1] = True
        logits, cache = self.runner(ids, attention_mask=mask, position_ids=positions, keep=keep,
                                    use_cache=True)
        return logits, cache, mask  # type: ignore[return-value]

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
