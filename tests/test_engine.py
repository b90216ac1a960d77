"""The engine against lm-eval's stock HF backend, and against itself at other batch sizes,
orders and chunkings, where its numbers must be bit-identical.

All on the real SmolLM2 in float32 on CPU. The request set mixes multiple-choice requests
(shared contexts, continuations of one and of several tokens), the same question asked twice
(its requests share a packed segment only when they travel together), a request whose context
is empty, rolling log-likelihoods, and chat prompts of different lengths for generation.
"""

from __future__ import annotations

import logging

import pytest
import torch
from lm_eval.api.instance import Instance
from transformers import AutoModelForCausalLM, MistralConfig

from audit.engine import EngineSettings, FastLM
from audit.engine.batching import DeviceMemoryError
from audit.engine.generation import _Sequence
from audit.engine.packed_scoring import PackedScorer
from audit.engine.padded_scoring import PaddedScorer, Window
from tests.engine_requests import engine, engine_requests, run_all

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def requests(smollm2) -> dict[str, list[Instance]]:
    return engine_requests(smollm2)


@pytest.fixture(scope="module")
def engine_results(smollm2, requests) -> dict[str, list]:
    return run_all(engine(smollm2), requests)


def _assert_same(results, reference, tolerance: float) -> None:
    for (logprob, greedy), (ref_logprob, ref_greedy) in zip(
            results["loglikelihood"], reference["loglikelihood"], strict=True):
        assert logprob == pytest.approx(ref_logprob, abs=tolerance)
        assert greedy == ref_greedy
    assert results["loglikelihood_rolling"] == pytest.approx(
        reference["loglikelihood_rolling"], abs=tolerance)
    assert results["generate_until"] == reference["generate_until"]


def _assert_identical(results, reference) -> None:
    """Bit for bit: every log-likelihood, greedy flag and generated text."""
    for kind in reference:
        assert results[kind] == reference[kind], kind


def _accuracy(results, n_choices: int = 4) -> list[int]:
    """Index of the best option of each multiple-choice item (lm-eval's acc decision)."""
    scores = [logprob for logprob, _ in results["loglikelihood"][:-3]]
    return [max(range(n_choices), key=lambda i: scores[start + i])
            for start in range(0, len(scores), n_choices)]


@pytest.fixture(scope="module")
def hflm_results(smollm2, requests) -> dict[str, list]:
    from lm_eval.models.huggingface import HFLM

    stock = HFLM(pretrained=smollm2.lm.model, tokenizer=smollm2.tokenizer, batch_size=16,
                 device="cpu")
    return run_all(stock, requests)


def test_scores_equal_stock_hflm(engine_results, hflm_results) -> None:
    _assert_same(engine_results, hflm_results, tolerance=1e-4)
    assert any(text.strip() for text in engine_results["generate_until"])


def test_padded_batches_equal_stock_hflm(smollm2, requests, hflm_results) -> None:
    """The padded path (GPUs, and models whose attention cannot be packed), run on CPU."""
    lm = engine(smollm2)
    assert isinstance(lm.scorer, PackedScorer)
    lm.scorer = PaddedScorer(lm.runner, lm.fallback, Window(lm.max_length, lm.max_length + 1))
    kinds = ("loglikelihood", "loglikelihood_rolling")
    results = {kind: getattr(lm, kind)(requests[kind], disable_tqdm=True) for kind in kinds}
    _assert_same(results | {"generate_until": hflm_results["generate_until"]}, hflm_results,
                 tolerance=1e-4)


def _tiny(config_class, smollm2, **options):
    """A small randomly initialised model of a real architecture, with SmolLM2's vocabulary."""
    config = config_class(vocab_size=len(smollm2.tokenizer), hidden_size=32,
                          intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=2, attn_implementation="sdpa", **options)
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config).eval()


def test_only_models_whose_attention_can_be_packed_are_packed(smollm2) -> None:
    """A sliding-window model (Mistral) is detected by running it, and gets padded batches;
    the same architecture without the window is packed, and both give the same scores."""
    pairs = [([1, 2, 3, 4, 5], [6, 7]), ([1, 2, 3, 4, 5], [8]), ([9, 10], [11, 12, 13])]
    scores = {}
    for window in (4096, None):
        model = _tiny(MistralConfig, smollm2, sliding_window=window)
        lm = FastLM(model, smollm2.tokenizer, EngineSettings(max_rows=8, token_budget=256))
        assert isinstance(lm.scorer, PaddedScorer if window else PackedScorer)
        scores[window] = [score for score, _ in lm.scorer.score(pairs)]
    assert scores[4096] == pytest.approx(scores[None], abs=1e-5)


@pytest.mark.parametrize("batch_size", [1, 7])
def test_batch_size_invariance(smollm2, requests, engine_results, batch_size) -> None:
    """Batch size 32 (the fixture) against 1 and 7: the same numbers to the bit, the same text."""
    results = run_all(engine(smollm2, max_rows=batch_size), requests)
    _assert_identical(results, engine_results)
    assert _accuracy(results) == _accuracy(engine_results)


def _reordered_and_chunked(lm, requests, chunks: int) -> dict[str, list]:
    """The requests in reverse order, handed to the engine in `chunks` separate calls."""
    results = {}
    for kind, items in requests.items():
        backwards = items[::-1]
        size = -(-len(backwards) // chunks)
        answers = [answer for start in range(0, len(backwards), size)
                   for answer in getattr(lm, kind)(backwards[start:start + size],
                                                   disable_tqdm=True)]
        results[kind] = answers[::-1]
    return results


@pytest.mark.parametrize("chunks", [1, 3])
def test_order_and_chunking_invariance(smollm2, requests, engine_results, chunks) -> None:
    """Reversed order, in one call or in three (so the duplicate question's requests travel
    apart or together): the same numbers to the bit."""
    _assert_identical(_reordered_and_chunked(engine(smollm2), requests, chunks), engine_results)


def _padded_engine(smollm2, **settings) -> FastLM:
    lm = engine(smollm2, **settings)
    lm.scorer = PaddedScorer(lm.runner, lm.fallback, Window(lm.max_length, lm.max_length + 1))
    return lm


def test_padded_path_is_batch_invariant(smollm2, requests) -> None:
    """The padded path (models whose attention cannot be packed, run on CPU) at batch sizes
    32, 7 and 1 and in reverse order in three chunks: the same numbers to the bit. Only the
    log-likelihood requests: the scorer is all the padded path changes, and generation, which
    does not use it, is checked at these batch sizes and orders above."""
    scored = {kind: requests[kind] for kind in ("loglikelihood", "loglikelihood_rolling")}
    reference = run_all(_padded_engine(smollm2), scored)
    for batch_size in (7, 1):
        _assert_identical(run_all(_padded_engine(smollm2, max_rows=batch_size), scored),
                          reference)
    _assert_identical(_reordered_and_chunked(_padded_engine(smollm2), scored, 3), reference)


def test_ragged_generation_with_joining_equals_one_at_a_time(smollm2, requests) -> None:
    """A token budget that admits two sequences at a time, so finished sequences leave and
    waiting prompts of other lengths join a cache already in flight."""
    prompts = requests["generate_until"]
    longest = max(len(smollm2.tokenizer(p.args[0])["input_ids"]) for p in prompts)
    joining = engine(smollm2, token_budget=2 * (longest + 16)).generate_until(prompts)
    alone = engine(smollm2, max_rows=1).generate_until(prompts)
    assert joining == alone


def test_out_of_memory_halves_the_batch_and_gives_the_same_scores(
        smollm2, requests, engine_results, caplog) -> None:
    """A simulated device memory of 160 tokens: batches that exceed it raise the same
    out-of-memory error as CUDA; the engine halves them, logs it, and the results agree."""
    lm = engine(smollm2, simulated_memory_tokens=160)
    with caplog.at_level(logging.WARNING, logger="audit.engine"):
        results = run_all(lm, {k: v for k, v in requests.items()
                                if k != "loglikelihood_rolling"})
    assert any("Out of device memory" in r.message for r in caplog.records)
    assert lm.fallback.max_rows < 32
    _assert_identical(results, {k: v for k, v in engine_results.items()
                                if k != "loglikelihood_rolling"})


def test_a_request_larger_than_memory_is_a_clear_error(smollm2, requests) -> None:
    lm = engine(smollm2, simulated_memory_tokens=4)
    with pytest.raises(DeviceMemoryError, match="does not fit"):
        lm.loglikelihood(requests["loglikelihood"][:4], disable_tqdm=True)


def test_packed_prefill_equals_the_padded_prefill(smollm2, requests) -> None:
    """Generation's prompts prefilled end to end in one row (the CPU default for models whose
    attention packs) and as one left-padded batch: the same first-token logits and the same
    cached keys and values, bit for bit, so the same texts."""
    lm = engine(smollm2)
    assert lm.generator.packed_prefill
    prompts = [lm._encode_prompt(r.args[0], lm.max_length) for r in requests["generate_until"]]
    passes = [method([_Sequence(i, p) for i, p in enumerate(prompts)])
              for method in (lm.generator._packed_pass, lm.generator._padded_pass)]
    (packed_logits, packed_cache, packed_mask), (padded_logits, padded_cache, padded_mask) = passes
    assert len({len(p) for p in prompts}) > 1
    assert torch.equal(packed_mask, padded_mask)
    assert torch.equal(packed_logits, padded_logits)
    real = padded_mask.bool()
    for (packed_keys, packed_values, _), (keys, values, _) in zip(packed_cache, padded_cache,
                                                                  strict=True):
        assert torch.equal(packed_keys.transpose(1, 2)[real], keys.transpose(1, 2)[real])
        assert torch.equal(packed_values.transpose(1, 2)[real], values.transpose(1, 2)[real])
    lm.generator.packed_prefill = False
    assert lm.generate_until(requests["generate_until"]) == engine(smollm2).generate_until(
        requests["generate_until"])
