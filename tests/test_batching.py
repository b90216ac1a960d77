"""Token-budget batching (a pure function: no model needed)."""

from __future__ import annotations

from audit.engine.batching import budget_batches, packed_batches


def _sizes(batches: list[list[int]]) -> list[list[int]]:
    return [list(batch) for batch in batches]


def test_batches_respect_rows_and_padded_tokens() -> None:
    items = [10] * 10
    assert _sizes(budget_batches(items, int, max_rows=4, token_budget=1000)) == [
        [10] * 4, [10] * 4, [10] * 2]
    assert _sizes(budget_batches(items, int, max_rows=64, token_budget=35)) == [
        [10] * 3, [10] * 3, [10] * 3, [10]]


def test_short_items_do_not_ride_in_a_long_items_padding() -> None:
    batches = budget_batches([8, 8, 7, 2, 2, 1], int, max_rows=64, token_budget=1000,
                             padding_slack=0)
    assert _sizes(batches) == [[8, 8, 7], [2, 2, 1]]
    assert all(max(b) * len(b) <= 1.25 * sum(b) for b in batches)


def test_a_little_padding_is_always_allowed_to_save_a_pass() -> None:
    """Padding within the slack never splits a batch; beyond it the ratio rule applies."""
    items = [8, 8, 7, 2, 2, 1]
    assert _sizes(budget_batches(items, int, max_rows=64, token_budget=1000,
                                 padding_slack=20)) == [items]
    batches = budget_batches(items, int, max_rows=64, token_budget=1000, padding_slack=8)
    assert _sizes(batches) == [[8, 8, 7, 2], [2, 1]]
    assert all(max(b) * len(b) - sum(b) <= 8 or max(b) * len(b) <= 1.25 * sum(b)
               for b in batches)


def test_an_item_over_the_budget_travels_alone_and_order_is_kept() -> None:
    batches = budget_batches([50, 5, 5], int, max_rows=8, token_budget=20)
    assert _sizes(batches) == [[50], [5, 5]]
    assert [x for b in batches for x in b] == [50, 5, 5]


def test_packed_batches_keep_every_limit_and_the_order() -> None:
    """Items are (tokens, scored positions): each batch stays within both sums and the row cap;
    an item over a limit alone travels alone."""
    items = [(6, 1), (5, 4), (4, 1), (3, 3), (30, 1), (1, 1)]
    batches = packed_batches(items, lambda item: item, limits=(12, 5), max_items=3)
    assert batches == [[(6, 1), (5, 4)], [(4, 1), (3, 3)], [(30, 1)], [(1, 1)]]
    assert packed_batches(items[:4], lambda item: item, limits=(100, 100), max_items=2) == [
        [(6, 1), (5, 4)], [(4, 1), (3, 3)]]
