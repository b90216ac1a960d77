"""Which items a run uses: one seeded, stratified order of a suite's items, cut at a count.

Every family selects through `seeded_order` and `select`. Within a stratum (a task, a part,
a source and language), items come in a seeded random order: an index is drawn uniformly
and drawn again while it was already taken, so the first N of the order are a seeded sample
of N without replacement, the same on every machine. (Suites whose items recur in other
suites, the misuse family, rank a stratum by a hash of each item's unit and the seed instead,
so suites drawn with one seed pick the same units.) Strata are read round-robin, in sorted
order, so a cut at N spreads across them. The order, not only a set, is the contract: a
profile may read it in chunks and stop when it has enough.

The decision profile reads a different order of the same strata, `proportional_order`: each
next item comes from a stratum chosen with probability proportional to the items it has
left, then is that stratum's next item in its own seeded order. That is a uniformly random
order of the whole set (a simple random sample without replacement at every length), so a
confidence sequence for the whole set's mean is valid on it, and each stratum fills in
proportion to its size on average (its count after n draws is hypergeometric).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from audit.suites.profile import ItemBudget

Item = TypeVar("Item")
#: The key of items that share one stratum (a suite without strata has only this one).
WHOLE_SUITE = ""


def stratum_key(seed: int, stratum: str) -> int | str:
    """The generator key of a stratum's draw: the seed itself for a suite without strata,
    else `"<seed>/<stratum>"`, so each stratum draws independently of the others."""
    return seed if stratum == WHOLE_SUITE else f"{seed}/{stratum}"


def seeded_draw(n: int, key: int | str) -> Iterator[int]:
    """The indices 0..n-1 in a seeded random order, drawn without replacement by rejection.

    For a sample of k from n items where n exceeds Python's small-population threshold, the
    first k equal `random.Random(key).sample(range(n), k)` (its rejection branch), which is
    how the families drew their samples before this helper.
    """
    rng = random.Random(key)
    taken: set[int] = set()
    while len(taken) < n:
        index = rng.randrange(n)
        if index not in taken:
            taken.add(index)
            yield index


def unit_rank(unit: str, seed: int) -> str:
    """A stable pseudo-random rank of a unit: the same unit ranks the same in every suite, so
    suites drawing with one seed pick the same units (and share their requests)."""
    return hashlib.sha256(f"{seed}:{unit}".encode()).hexdigest()


def _stratum_order(indices: list[int], seed: int, stratum: str,
                   unit: Callable[[int], str] | None) -> Iterator[int]:
    if unit is not None:
        return iter(sorted(indices, key=lambda i: unit_rank(unit(i), seed)))
    return (indices[i] for i in seeded_draw(len(indices), stratum_key(seed, stratum)))


def _strata(items: Sequence[Item], stratum: Callable[[Item], str] | None
            ) -> dict[str, list[int]]:
    """The indices of the items of each stratum, in file order."""
    strata: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        strata.setdefault(stratum(item) if stratum else WHOLE_SUITE, []).append(index)
    return strata


def _stratum_queues(items: Sequence[Item], strata: dict[str, list[int]], seed: int,
                    unit: Callable[[Item], str] | None) -> list[tuple[str, Iterator[int]]]:
    """Each stratum (sorted by name) with its items in its own seeded order."""
    return [(name, _stratum_order(indices, seed, name,
                                  (lambda i: unit(items[i])) if unit else None))
            for name, indices in sorted(strata.items())]


def seeded_order(items: Sequence[Item], seed: int,
                 stratum: Callable[[Item], str] | None = None,
                 unit: Callable[[Item], str] | None = None) -> Iterator[tuple[str, int]]:
    """Every item's index once, as `(stratum, index)`, in the suite's seeded order:
    round-robin over the strata (sorted by name), each stratum in its own seeded order.
    Lazy: reading the first N costs about N draws, not a shuffle of everything.

    `unit` (optional) names what an item asks, for suites whose items recur in other suites:
    a stratum is then ordered by `unit_rank` instead of by a draw.
    """
    queues = _stratum_queues(items, _strata(items, stratum), seed, unit)
    while queues:
        still: list[tuple[str, Iterator[int]]] = []
        for name, queue in queues:
            index = next(queue, None)
            if index is not None:
                yield name, index
                still.append((name, queue))
        queues = still


def _stratum_at(left: dict[str, int], position: int) -> str:
    """The stratum that holds the `position`-th of the items left, strata in sorted order."""
    for name, count in left.items():
        if position < count:
            return name
        position -= count
    raise ValueError(f"position {position} is past the items left")


def proportional_order(items: Sequence[Item], seed: int,
                       stratum: Callable[[Item], str] | None = None
                       ) -> Iterator[tuple[str, int]]:
    """Every item's index once, as `(stratum, index)`, in the decision profile's order (see
    the module's docstring): the stratum of each next item is drawn by
    `random.Random("<seed>/strata")` with probability proportional to its items left, the
    item is that stratum's next in its own seeded draw. A suite without strata gets its
    `seeded_order`. Units are not used: ranking every stratum by the same unit hash would
    draw the translations of one prompt together, and the order would no longer be a
    uniformly random one of the whole set."""
    strata = _strata(items, stratum)
    queues = dict(_stratum_queues(items, strata, seed, None))
    left = {name: len(indices) for name, indices in sorted(strata.items())}
    rng = random.Random(f"{seed}/strata")
    for remaining in range(len(items), 0, -1):
        name = _stratum_at(left, rng.randrange(remaining) if len(left) > 1 else 0)
        yield name, next(queues[name])
        left[name] -= 1
        if not left[name]:
            del left[name]


def select(items: Sequence[Item], budget: ItemBudget,
           stratum: Callable[[Item], str] | None = None,
           unit: Callable[[Item], str] | None = None,
           in_file_order: bool = True) -> list[Item]:
    """The items a run uses: the first `budget.limit` of the seeded order (of the
    `proportional_order` for the decision profile's draws), or the first `budget.count(s)`
    of each stratum s; every item (in file order) when nothing is cut.

    The chosen items come back in file order, or in drawn order with `in_file_order=False`.
    """
    if budget.takes_all(len(items)):
        return list(items)
    taken: dict[str, int] = {}
    chosen: list[int] = []
    order = (proportional_order(items, budget.seed, stratum) if budget.origin == "sequential"
             else seeded_order(items, budget.seed, stratum, unit))
    for name, index in order:
        if budget.limit is not None and len(chosen) >= budget.limit:
            break
        wanted = budget.count(name)
        if wanted is not None and taken.get(name, 0) >= wanted:
            continue
        taken[name] = taken.get(name, 0) + 1
        chosen.append(index)
    return [items[index] for index in (sorted(chosen) if in_file_order else chosen)]
