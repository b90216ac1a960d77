"""The layout of packed requests: which tokens each may attend to, in which calls, and their
positions."""

from __future__ import annotations

import torch

from audit.engine.packed_attention import _PLAN, Segment, _packed_sdpa, _Plan


def _visibility(segment: Segment) -> torch.Tensor:
    """The segment's query x key visibility, assembled from its attention calls."""
    seen = torch.zeros(segment.length, segment.length, dtype=torch.bool)
    for call in segment.calls():
        columns = [c for start, end in call.keys for c in range(start, end)]
        width = call.queries[1] - call.queries[0]
        mask = (call.mask if call.mask is not None
                else torch.ones(width, width, dtype=torch.bool).tril())
        for row, query in enumerate(range(*call.queries)):
            assert not seen[query].any(), "a query is computed by two calls"
            seen[query, columns] = mask[row]
    return seen


def test_a_context_with_branches_sees_itself_and_each_branch_only_itself_and_the_context(
        ) -> None:
    """Context of 2 tokens, then a branch of 2 and a branch of 1 (rows: queries)."""
    expected = torch.tensor([[1, 0, 0, 0, 0],
                             [1, 1, 0, 0, 0],
                             [1, 1, 1, 0, 0],
                             [1, 1, 1, 1, 0],
                             [1, 1, 0, 0, 1]], dtype=torch.bool)
    segment = Segment(start=7, prefix=2, branches=(2, 1))
    assert torch.equal(_visibility(segment), expected)
    assert segment.positions() == [0, 1, 2, 3, 2]
    assert segment.length == 5


def test_each_call_depends_only_on_its_own_branch() -> None:
    """A branch's call is the same whether its context has one branch or several: the calls
    of (3,) are among those of (2, 3, 0, 4), shifted to where the branch lies."""
    alone = Segment(start=0, prefix=3, branches=(3,)).calls()
    shared = Segment(start=0, prefix=3, branches=(2, 3, 0, 4)).calls()
    assert len(shared) == 4  # the prefix, and the three non-empty branches
    assert alone[0] == shared[0]
    branch_alone, branch_shared = alone[1], shared[2]
    assert torch.equal(branch_alone.mask, branch_shared.mask)
    assert branch_shared.queries == (5, 8) and branch_shared.keys == ((0, 3), (5, 8))
    assert branch_alone.queries == (3, 6) and branch_alone.keys == ((0, 3), (3, 6))


def test_a_segment_without_branches_is_one_causal_call() -> None:
    for branches in [(), (0,), (0, 0)]:
        segment = Segment(start=0, prefix=3, branches=branches)
        (call,) = segment.calls()
        assert call.mask is None and call.queries == (0, 3) and call.keys == ((0, 3),)
        assert segment.positions() == list(range(segment.length))


def test_packed_attention_equals_per_call_sdpa_with_repeated_heads_to_the_bit() -> None:
    """Two segments in one packed row (a context with branches of 2, 0 and 3 tokens, then a
    context alone), grouped heads as SmolLM2's (9 query heads on 3 key/value heads), queries
    and keys laid out as the model lays them (a transposed view). Every call must give the bits
    of SDPA on that call's own keys with each key/value head repeated for its group, the
    computation of numerics version 4: reading the grouped heads in place changes no bit."""
    generator = torch.Generator().manual_seed(0)
    segments = [Segment(start=0, prefix=40, branches=(2, 0, 3)), Segment(start=45, prefix=7,
                                                                        branches=())]
    length = 52
    query = torch.randn(1, length, 9, 64, generator=generator).transpose(1, 2)
    key = torch.randn(1, length, 3, 64, generator=generator).transpose(1, 2)
    value = torch.randn(1, length, 3, 64, generator=generator).transpose(1, 2)
    plan = _Plan(segments, [segment.calls() for segment in segments])
    token = _PLAN.set(plan)
    try:
        output, _ = _packed_sdpa(torch.nn.Module(), query, key, value, None, scaling=0.125)
    finally:
        _PLAN.reset(token)
    assert output.shape == (1, length, 9, 64)
    for segment in segments:
        for call in segment.calls():
            rows = slice(segment.start + call.queries[0], segment.start + call.queries[1])
            columns = [segment.start + c for start, end in call.keys for c in range(start, end)]
            expected = torch.nn.functional.scaled_dot_product_attention(
                query[:, :, rows].contiguous(),
                key[:, :, columns].repeat_interleave(3, dim=1),
                value[:, :, columns].repeat_interleave(3, dim=1), attn_mask=call.mask,
                is_causal=call.mask is None, scale=0.125)
            assert torch.equal(output[0, rows], expected[0].transpose(0, 1)), call
