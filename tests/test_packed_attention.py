"""The layout of packed requests: which tokens each may attend to, and their positions."""

from __future__ import annotations

import torch

from audit.engine.packed_attention import Segment


def test_a_context_with_branches_sees_itself_and_each_branch_only_itself_and_the_context(
        ) -> None:
    """Context of 2 tokens, then a branch of 2 and a branch of 1 (rows: queries)."""
    expected = torch.tensor([[1, 0, 0, 0, 0],
                             [1, 1, 0, 0, 0],
                             [1, 1, 1, 0, 0],
                             [1, 1, 1, 1, 0],
                             [1, 1, 0, 0, 1]], dtype=torch.bool)
    segment = Segment(start=7, prefix=2, branches=(2, 1))
    assert torch.equal(segment.mask(), expected)
    assert segment.positions() == [0, 1, 2, 3, 2]
    assert segment.length == 5


def test_a_segment_with_at_most_one_branch_is_plainly_causal() -> None:
    for branches in [(), (3,), (0, 2, 0)]:
        segment = Segment(start=0, prefix=3, branches=branches)
        assert segment.mask() is None
        assert segment.positions() == list(range(segment.length))
