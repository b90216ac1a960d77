"""Log-likelihood on packed rows: requests laid end to end with no padding (the CPU path).

Each context becomes one segment: the context once, then every continuation but its last
token as a branch that sees the whole context (see `packed_attention`). A continuation that
would overflow the model's window with its context instead gets a segment of its own,
left-truncated as lm-eval's HF backend truncates it. Which of the two a request takes depends
on that request alone, never on the others of its call. A pass packs as many
segments as the token budget allows, computes the vocabulary projection once per scored
position (continuations of one context share the position that scores their first token),
and the log-softmax in float32.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import torch

from audit.engine.batching import OomFallback, packed_batches
from audit.engine.forward import ModelRunner
from audit.engine.packed_attention import PackingUnsupportedError, Segment
from audit.engine.scoring import Pair, Score, Tokens, group_by_context

log = logging.getLogger(__name__)
# Bytes of float32 logits one pass may hold: bounds the scored positions a pass packs.
LOGITS_BYTES = 2**28


@dataclass(frozen=True)
class _Unit:
    """A segment's tokens (its layout, starting at 0) and, for each pair it scores, the
    positions within the segment whose logits predict the pair's continuation tokens."""

    tokens: Tokens
    segment: Segment
    targets: tuple[tuple[Pair, tuple[int, ...]], ...]

    @property
    def scored(self) -> int:
        return len({p for _, positions in self.targets for p in positions})


def _shared_unit(context: Tokens, continuations: list[Tokens]) -> _Unit:
    tokens = list(context)
    targets = []
    for continuation in continuations:
        branch_start = len(tokens)
        tokens.extend(continuation[:-1])
        positions = (len(context) - 1, *range(branch_start, len(tokens)))
        targets.append(((context, continuation), positions))
    segment = Segment(0, len(context), tuple(len(c) - 1 for c in continuations))
    return _Unit(tuple(tokens), segment, tuple(targets))


def _truncated_unit(context: Tokens, continuation: Tokens, max_length: int) -> _Unit:
    tokens = (context + continuation)[-(max_length + 1):][:-1]
    positions = tuple(range(len(tokens) - len(continuation), len(tokens)))
    return _Unit(tokens, Segment(0, len(tokens), ()), (((context, continuation), positions),))


class PackedScorer:
    """Scores (context tokens, continuation tokens) pairs in packed, unpadded passes."""

    description = "packed: requests end to end in one row, no padding"

    def __init__(self, runner: ModelRunner, fallback: OomFallback, max_length: int,
                 vocab_size: int) -> None:
        self.runner = runner
        self.fallback = fallback
        self.max_length = max_length
        self.max_scored = max(1, LOGITS_BYTES // (4 * vocab_size))

    def score(self, pairs: list[tuple[list[int], list[int]]]) -> list[Score]:
        """One (log-likelihood, is-greedy) per pair, in the order given."""
        units: list[_Unit] = []
        for context, conts in group_by_context(pairs).items():
            fitting = [c for c in conts if len(context) + len(c) - 1 <= self.max_length]
            if fitting:
                units.append(_shared_unit(context, fitting))
            units.extend(_truncated_unit(context, c, self.max_length)
                         for c in conts if len(context) + len(c) - 1 > self.max_length)
        units.sort(key=lambda u: (-len(u.tokens), u.tokens))
        results: dict[Pair, Score] = {}
        limits = (self.runner.settings.token_budget, self.max_scored)
        for batch in packed_batches(units, lambda u: (len(u.tokens), u.scored), limits,
                                    self.fallback.max_rows):
            for scored in self.fallback.run(batch, self._pass, "log-likelihood"):
                results.update(scored)
        return [results[tuple(c), tuple(k)] for c, k in pairs]

    def _pass(self, units: list[_Unit]) -> list[dict[Pair, Score]]:
        device = self.runner.device
        segments: list[Segment] = []
        ids: list[int] = []
        positions: list[int] = []
        for unit in units:
            segments.append(replace(unit.segment, start=len(ids)))
            ids.extend(unit.tokens)
            positions.extend(unit.segment.positions())
        keep = torch.zeros(1, len(ids), dtype=torch.bool)
        for segment, unit in zip(segments, units, strict=True):
            for _, scored in unit.targets:
                keep[0, [segment.start + p for p in scored]] = True
        row_of = keep[0].cumsum(0) - 1
        logits, _ = self.runner(torch.tensor([ids], device=device),
                                position_ids=torch.tensor([positions], device=device),
                                keep=keep.to(device), segments=segments)
        logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
        greedy = logprobs.argmax(dim=-1)
        results: list[dict[Pair, Score]] = []
        for segment, unit in zip(segments, units, strict=True):
            entry: dict[Pair, Score] = {}
            for pair, scored in unit.targets:
                rows = row_of[[segment.start + p for p in scored]]
                target = torch.tensor(pair[1], dtype=torch.long)
                entry[pair] = (float(logprobs[rows, target].sum()),
                               bool((greedy[rows] == target).all()))
            results.append(entry)
        return results


def packing_works(runner: ModelRunner) -> bool:
    """Whether this model computes packed requests correctly: a two-request pass on the real
    model must route every layer's attention through the packed attention (models with sliding
    windows, soft-capped logits, attention sinks or non-attention layers do not)."""
    segments = [Segment(0, 1, ()), Segment(1, 1, ())]
    try:
        runner(torch.tensor([[0, 0]], device=runner.device),
               position_ids=torch.tensor([[0, 0]], device=runner.device),
               keep=torch.ones(1, 2, dtype=torch.bool, device=runner.device), segments=segments)
    except PackingUnsupportedError as exc:
        log.info("Log-likelihoods run in padded batches: %s", exc)
        return False
    return True
