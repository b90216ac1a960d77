"""When waiting prompts join a generating batch (`admission_count`): the row cap, the token
budget, whole decoding tiles, and refills in groups rather than one prompt at a time.
Expected counts are worked out by hand in each test."""

from __future__ import annotations

from audit.engine.generation import admission_count


def test_an_empty_batch_takes_what_fits_cut_to_whole_tiles() -> None:
    # 50 prompts of 200 tokens, budget 8,192: 40 fit (8,000 tokens), but 40 rows would use
    # two 32-row tiles, the second 8/32 full, so 32 join.
    assert admission_count([200] * 50, 0, 0, 256, 8192, 32) == 32
    # Without tiles (a GPU), all 40 join.
    assert admission_count([200] * 50, 0, 0, 256, 8192, None) == 40
    # 70 fit and the row cap is 256: two whole tiles.
    assert admission_count([100] * 70, 0, 0, 256, 8192, 32) == 64


def test_a_batch_within_one_tile_is_not_cut() -> None:
    # 20 prompts of 300 tokens, budget 8,192: 27 would fit, only 20 wait; 20 < 32 rows.
    assert admission_count([300] * 20, 0, 0, 256, 8192, 32) == 20
    # The row cap binds below a tile.
    assert admission_count([10] * 20, 0, 0, 7, 8192, 32) == 7


def test_an_empty_batch_always_takes_one_prompt_even_over_the_budget() -> None:
    assert admission_count([10_000, 5], 0, 0, 256, 8192, 32) == 1


def test_a_decoding_batch_refills_only_in_groups() -> None:
    # 30 decoding rows holding 6,000 tokens; room for 10 more of 200 by the budget, but 40
    # rows round down to 32: only 2 could join, under a quarter of 32, so none does yet.
    assert admission_count([200] * 10, 30, 6000, 256, 8192, 32) == 0
    # 24 rows decoding: 8 join (32 rows, 8 * 4 >= 32).
    assert admission_count([200] * 10, 24, 4800, 256, 8192, 32) == 8
    # 25 rows: 7 could join, 7 * 4 < 32, so none.
    assert admission_count([200] * 10, 25, 5000, 256, 8192, 32) == 0


def test_the_last_waiting_prompts_join_however_few() -> None:
    # One prompt waits beside 30 decoding rows: it takes the last free row of the tile.
    assert admission_count([200], 30, 6000, 256, 8192, 32) == 1


def test_a_full_budget_admits_nothing_to_a_decoding_batch() -> None:
    assert admission_count([200] * 5, 3, 8100, 256, 8192, 32) == 0
