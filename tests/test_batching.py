"""Token-budget batching (a pure function: no model needed)."""

from __future__ import annotations

from audit.engine.batching import budget_batches


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
