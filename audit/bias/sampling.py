"""Which items a limited run uses: a seeded draw, recorded through the sample ids."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

Item = TypeVar("Item")


def seeded_subset(items: Sequence[Item], limit: int | None, seed: int) -> list[Item]:
    """At most `limit` items drawn without replacement with a seeded generator, in file order.

    Benchmark files are often sorted by group, so the first N items would cover one group
    only; a seeded draw spreads a quick run across groups and is the same on every machine.
    """
    if limit is None or limit >= len(items):
        return list(items)
    chosen = sorted(random.Random(seed).sample(range(len(items)), max(limit, 0)))
    return [items[index] for index in chosen]
