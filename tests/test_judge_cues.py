"""The language-independent cues of a (request, response) pair and the relative relevance
feature of the multilingual judge, on pairs whose values are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audit.judges.embedding import relative_relevance
from audit.judges.response_cues import (
    CUE_NAMES,
    compression_ratio,
    echo_share,
    english_share,
    pair_cues,
    repeated_word_share,
)


def test_echo_share_counts_the_responses_trigrams_found_in_the_prompt() -> None:
    """"abcx" has trigrams abc, bcx; the prompt "abcde" (abc, bcd, cde) holds abc only: one
    of the response's two (not of the prompt's three). Case and runs of whitespace do not
    matter; an empty response echoes nothing."""
    assert echo_share("abcde", "abcx") == 0.5
    assert echo_share("How  do I", "how do i") == 1.0
    assert echo_share("anything", "") == 0.0


def test_repeated_words_and_compression_see_degenerate_loops() -> None:
    """"the cat the cat the": 5 words, 2 distinct, so 3 of 5 repeat an earlier word. A loop
    compresses to a small share of its size; varied prose much less; empty text is 1."""
    assert repeated_word_share("the cat the cat the") == pytest.approx(3 / 5)
    assert repeated_word_share("") == 0.0
    loop = "I am a model. " * 20
    prose = "Preheat the oven, whisk two eggs with sugar, then fold in the flour gently."
    assert compression_ratio(loop) < 0.15 < 0.8 < compression_ratio(prose)
    assert compression_ratio("") == 1.0


def test_english_reply_is_only_counted_for_requests_in_other_languages() -> None:
    """"I cannot help with that": all five words are English function words. The same reply
    to a Hindi request scores 1 on `english_reply`; to an English request 0. A Spanish reply
    holds none of them."""
    refusal = "I cannot help with that"
    assert english_share(refusal) == 1.0
    assert english_share("No puedo ayudar con eso") == 0.0
    to_hindi = dict(zip(CUE_NAMES, pair_cues("यह कैसे करें?", refusal, "hin"), strict=True))
    to_english = dict(zip(CUE_NAMES, pair_cues("How?", refusal, "eng"), strict=True))
    assert to_hindi["english_reply"] == 1.0 and to_english["english_reply"] == 0.0
    assert to_hindi["log_length"] == pytest.approx(math.log(1 + len(refusal)))


def test_relative_relevance_compares_the_own_prompt_with_the_reference_prompts() -> None:
    """Reference prompts (1, 0) and (0, 1). A response at (1, 0) to the prompt (1, 0): cosine
    1 against a reference mean of 0.5 (spread 0.5), so 0.5 above, 1 spread above, and no
    reference prompt nearer. A response at (0, 1) to the prompt (1, 0): cosine 0, 0.5 below,
    1 spread below, and one reference prompt of two nearer than its own."""
    reference = np.array([[1.0, 0.0], [0.0, 1.0]])
    responses = np.array([[1.0, 0.0], [0.0, 1.0]])
    prompts = np.array([[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(relative_relevance(responses, prompts, reference),
                               [[0.5, 1.0, 0.0], [-0.5, -1.0, 0.5]], atol=1e-5)
