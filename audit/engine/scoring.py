"""What both log-likelihood scorers share: the request types, and grouping by context."""

from __future__ import annotations

Tokens = tuple[int, ...]
Pair = tuple[Tokens, Tokens]
Score = tuple[float, bool]


def group_by_context(pairs: list[tuple[list[int], list[int]]]) -> dict[Tokens, list[Tokens]]:
    """Each distinct context with its distinct continuations, both in first-seen order, so a
    context shared by several continuations is computed once."""
    groups: dict[Tokens, dict[Tokens, None]] = {}
    for context, continuation in pairs:
        groups.setdefault(tuple(context), {})[tuple(continuation)] = None
    return {context: list(continuations) for context, continuations in groups.items()}
