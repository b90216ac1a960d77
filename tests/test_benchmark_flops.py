"""The benchmark's count of useful work, against a count made by hand for a tiny Llama."""

from __future__ import annotations

from transformers import LlamaConfig, LlamaForCausalLM

from benchmarks.flops import useful_flops


def test_useful_flops_counts_each_context_once_and_only_what_is_scored() -> None:
    """Two requests share the context (1, 2, 3); a third has its own.

    By hand: linear weights per layer 8*8 (q) + 8*4 (k) + 8*4 (v) + 8*8 (o) + 3 * 8*16 (MLP)
    = 576, two layers: 1,152. Tokens fed: the shared context 3, then 1 and 0 continuation
    tokens (a continuation's last token is not fed); the other context 1, then 2: 7 in all.
    Keys seen: 1+2+3 by the shared context, 4 by the first continuation, 1 by the other
    context, 2+3 by its continuation: 16. Positions scored: 2 + 1 + 3 = 6.
    """
    config = LlamaConfig(vocab_size=32, hidden_size=8, intermediate_size=16,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         head_dim=4, tie_word_embeddings=False)
    pairs = [((1, 2, 3), (4, 5)), ((1, 2, 3), (6,)), ((7,), (8, 9, 10))]
    work = useful_flops(LlamaForCausalLM(config), pairs)
    assert work["tokens"] == 7 and work["scored_positions"] == 6
    assert work["linear"] == 2 * 1152 * 7
    assert work["attention"] == 4 * (2 * 4) * 2 * 16
    assert work["output_projection"] == 2 * (32 * 8) * 6
    assert work["total"] == 16128 + 1024 + 3072
