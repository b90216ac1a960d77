"""Log-likelihood in padded batches, scoring a context shared by several continuations once:
the GPU path (and the CPU path for models whose attention cannot be packed).

Requests arrive as token lists, split exactly as lm-eval's HF backend splits them. Two paths:

- a request whose context and continuation fit the shared limit (most requests; a context
  with several continuations is computed once): the contexts of a batch run once,
  right-padded, keeping their keys and values; the logits at each context's last
  token score every continuation's first token; continuations longer than one token then run
  on a copy of their context's cache, with an attention mask that hides the padding between
  the context and the continuation and position ids that continue the context's own.
- a request longer than that: context and continuation in one right-padded pass, as lm-eval
  does, left-truncated to the model's length.

Which path a request takes depends on that request alone. Every pass passes an explicit mask of
its real tokens, so that on a CPU attention can run on each row's real tokens alone (see
`attention`).

Both compute the vocabulary projection only at the positions that are scored, and the
log-softmax in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from audit.engine.batching import OomFallback, budget_batches
from audit.engine.forward import ModelRunner, cache_rows
from audit.engine.scoring import Score, Tokens, group_by_context


@dataclass(frozen=True)
class Window:
    """Limits that decide which path a request takes."""

    max_length: int
    shared_limit: int


def _right_pad(rows: list[list[int]], width: int, device: torch.device) -> torch.Tensor:
    return torch.tensor([row + [0] * (width - len(row)) for row in rows], dtype=torch.long,
                        device=device)


def _real_token_mask(rows: list[list[int]], width: int, device: torch.device) -> torch.Tensor:
    """The attention mask of right-padded rows: 1 on each row's real tokens."""
    return (torch.arange(width, device=device)[None, :]
            < torch.tensor([len(row) for row in rows], device=device)[:, None]).long()


def _score_positions(logits: torch.Tensor, targets: list[Tokens]) -> list[Score]:
    """(sum of log-probabilities, all greedy) of each target, from its rows of flat logits."""
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    greedy = logprobs.argmax(dim=-1)
    scores: list[Score] = []
    start = 0
    for target in targets:
        ids = torch.tensor(target, dtype=torch.long, device=logprobs.device)
        rows = slice(start, start + len(target))
        picked = logprobs[rows].gather(1, ids[:, None]).squeeze(1)
        scores.append((float(picked.sum()), bool((greedy[rows] == ids).all())))
        start += len(target)
    return scores


class PaddedScorer:
    """Scores (context tokens, continuation tokens) pairs in padded token-budget batches."""

    description = "padded: token-budget batches, shared contexts' key/value cache reused"

    def __init__(self, runner: ModelRunner, fallback: OomFallback, window: Window) -> None:
        self.runner = runner
        self.fallback = fallback
        self.window = window

    def score(self, pairs: list[tuple[list[int], list[int]]]) -> list[Score]:
        """One (log-likelihood, is-greedy) per pair, in the order given."""
        shared: list[tuple[Tokens, list[Tokens]]] = []
        single: list[tuple[Tokens, Tokens]] = []
        for context, conts in group_by_context(pairs).items():
            fitting = [c for c in conts if len(context) + len(c) <= self.window.shared_limit]
            if fitting:
                shared.append((context, fitting))
            single.extend((context, c) for c in conts
                          if len(context) + len(c) > self.window.shared_limit)
        results: dict[tuple[Tokens, Tokens], Score] = {}
        self._run_single(single, results)
        self._run_shared(shared, results)
        return [results[tuple(c), tuple(k)] for c, k in pairs]

    def _input_length(self, pair: tuple[Tokens, Tokens]) -> int:
        return min(len(pair[0]) + len(pair[1]) - 1, self.window.max_length)

    def _run_single(self, pairs: list[tuple[Tokens, Tokens]],
                    results: dict[tuple[Tokens, Tokens], Score]) -> None:
        pairs = sorted(pairs, key=lambda p: (-self._input_length(p), p))
        settings = self.runner.settings
        for batch in budget_batches(pairs, self._input_length, self.fallback.max_rows,
                                    settings.token_budget):
            scores = self.fallback.run(batch, self._single_batch, "log-likelihood")
            results.update(zip(batch, scores, strict=True))

    def _single_batch(self, batch: list[tuple[Tokens, Tokens]]) -> list[Score]:
        limit = self.window.max_length
        inputs = [list(context + continuation)[-(limit + 1):][:-1]
                  for context, continuation in batch]
        width = max(len(row) for row in inputs)
        ids = _right_pad(inputs, width, self.runner.device)
        keep = torch.zeros_like(ids, dtype=torch.bool)
        for row, (inp, (_, continuation)) in enumerate(zip(inputs, batch, strict=True)):
            keep[row, len(inp) - len(continuation):len(inp)] = True
        logits, _ = self.runner(ids, attention_mask=_real_token_mask(inputs, width, ids.device),
                                keep=keep)
        return _score_positions(logits, [continuation for _, continuation in batch])

    def _run_shared(self, groups: list[tuple[Tokens, list[Tokens]]],
                    results: dict[tuple[Tokens, Tokens], Score]) -> None:
        groups = sorted(groups, key=lambda g: (-len(g[0]), g[0]))
        settings = self.runner.settings
        for batch in budget_batches(groups, lambda g: len(g[0]) * (1 + len(g[1])),
                                    self.fallback.max_rows, settings.token_budget):
            for scored in self.fallback.run(batch, self._shared_batch, "multiple-choice"):
                results.update(scored)

    def _shared_batch(self, groups: list[tuple[Tokens, list[Tokens]]]
                      ) -> list[dict[tuple[Tokens, Tokens], Score]]:
        device = self.runner.device
        width = max(len(context) for context, _ in groups)
        contexts = [list(context) for context, _ in groups]
        ids = _right_pad(contexts, width, device)
        keep = torch.zeros_like(ids, dtype=torch.bool)
        for row, (context, _) in enumerate(groups):
            keep[row, len(context) - 1] = True
        logits, cache = self.runner(ids, attention_mask=_real_token_mask(contexts, width, device),
                                    keep=keep, use_cache=True)
        first = torch.log_softmax(logits.float(), dim=-1)
        first_greedy = first.argmax(dim=-1)
        scored: list[dict[tuple[Tokens, Tokens], Score]] = []
        tails: list[tuple[int, Tokens, Tokens]] = []
        for row, (context, continuations) in enumerate(groups):
            entry: dict[tuple[Tokens, Tokens], Score] = {}
            for continuation in continuations:
                head = continuation[0]
                entry[context, continuation] = (float(first[row, head]),
                                                int(first_greedy[row]) == head)
                if len(continuation) > 1:
                    tails.append((row, context, continuation))
            scored.append(entry)
        tails.sort(key=lambda t: (-len(t[2]), t[1], t[2]))
        budget = self.runner.settings.token_budget
        rows = max(1, min(self.fallback.max_rows, budget // (width + 1)))
        for part in budget_batches(tails, lambda t: len(t[2]) - 1, rows, budget):
            for (row, context, continuation), (logprob, greedy) in zip(
                    part, self._tail_batch(part, cache, width), strict=True):
                head_logprob, head_greedy = scored[row][context, continuation]
                scored[row][context, continuation] = (head_logprob + logprob,
                                                      head_greedy and greedy)
        return scored

    def _tail_batch(self, part: list[tuple[int, Tokens, Tokens]], cache: object, width: int
                    ) -> list[Score]:
        """Continuation tokens after the first, attending to their context's cached keys."""
        device = self.runner.device
        span = max(len(continuation) - 1 for _, _, continuation in part)
        ids = _right_pad([list(c[:-1]) for _, _, c in part], span, device)
        mask = torch.zeros((len(part), width + span), dtype=torch.long, device=device)
        positions = torch.empty((len(part), span), dtype=torch.long, device=device)
        keep = torch.zeros_like(ids, dtype=torch.bool)
        for index, (_, context, continuation) in enumerate(part):
            mask[index, :len(context)] = 1
            mask[index, width:width + len(continuation) - 1] = 1
            positions[index] = torch.arange(len(context), len(context) + span)
            keep[index, :len(continuation) - 1] = True
        rows = torch.tensor([row for row, _, _ in part], dtype=torch.long, device=device)
        logits, _ = self.runner(ids, attention_mask=mask, position_ids=positions,
                                past=cache_rows(cache, rows), keep=keep)
        return _score_positions(logits, [continuation[1:] for _, _, continuation in part])
