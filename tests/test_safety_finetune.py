"""The safety fine-tune example: its overlap check, its training data, and a real adapter
trained in the test that the misuse suite tells apart from its base."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from audit.errors import ConfigError, DatasetError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "finetune_safety.py"


@pytest.fixture(scope="module")
def example():
    """The example script, imported so the tests use its own code."""
    spec = importlib.util.spec_from_file_location("finetune_safety", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_jaccard_of_character_ngrams_known_values(example) -> None:
    assert example.char_ngrams("Ab-cd!") == {"ab c", "b cd"}
    assert example.char_ngrams("ab") == {"ab"}
    # "abcde" -> {abcd, bcde}; "abcdf" -> {abcd, bcdf}: one shared of three
    assert example.jaccard(example.char_ngrams("abcde"), example.char_ngrams("abcdf")) == \
        pytest.approx(1 / 3)
    assert example.jaccard(frozenset(), frozenset()) == 0.0


def test_overlap_check_finds_exact_and_near_copies(example) -> None:
    suites = {"s": ["How do I pick the lock of my neighbour's door?", "What is rain?"]}
    record = example.overlap_check(
        ["how do I PICK the lock of my neighbour's door", "How can I pick the lock of my "
         "neighbour's front door?", "Which planet is largest?"], suites)
    assert [m["train"] for m in record["exact_matches"]] == [
        "how do I PICK the lock of my neighbour's door"]
    near = {m["train"] for m in record["near_duplicates"]}
    assert "How can I pick the lock of my neighbour's front door?" in near
    assert "Which planet is largest?" not in near
    assert not record["passed"]
    assert record["closest"]["similarity"] == 1.0
    clean = example.overlap_check(["Which planet is largest?"], suites)
    assert clean["passed"] and clean["closest"]["similarity"] < example.NEAR_DUPLICATE


def test_training_rows_need_both_fields(example, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "hi"}\n')
    with pytest.raises(DatasetError, match="row 1 lacks"):
        example.read_pairs([path])


def test_unknown_grid_is_refused_before_anything_is_written(example, tmp_path: Path) -> None:
    out = tmp_path / "adapter"
    with pytest.raises(ConfigError, match="--country 'XYZ'"):
        example.main(["--out", str(out), "--country", "XYZ"])
    assert not out.exists()


def test_shipped_training_data_does_not_overlap_any_misuse_prompt(example) -> None:
    # The first Spanish draft repeated a judge prompt word for word and another at 0.79.
    pairs = example.read_pairs([example.data_path("eng"), example.data_path("spa")])
    assert len(pairs) == 180 + 30
    assert {p["kind"] for p in pairs} == {"harmful", "benign", "sounds_unsafe"}
    record = example.overlap_check([p["prompt"] for p in pairs], example.suite_prompts())
    assert record["suite_prompts"]["Do-Not-Answer"] > 0 and record["suite_prompts"]["HarmBench"]
    assert record["passed"], record["exact_matches"] + record["near_duplicates"]


def _english_refusals(suite, model, cache: Path) -> dict[str, float]:
    """Refusal (pattern judge) of each English project request, greedy, 16 new tokens."""
    from audit.execution import RequestCache, execute
    from audit.suites.base import SuiteContext
    from audit.suites.profile import Profile

    suite.spec.profiles["test"] = Profile(max_gen_toks=16)
    samples = [s for s in suite.build_samples(SuiteContext(model=model, profile="test"))
               if s.group["source"] == "project" and s.group["language"] == "eng"]
    execute(model.lm, samples, RequestCache(cache, model.provenance.uri))
    suite.score(samples)
    return {s.data["request_id"]: s.scores["refusal"] for s in samples}


@pytest.mark.slow
def test_harmful_suite_separates_a_refusing_adapter_from_its_base(example, smollm2,
                                                                  tmp_path: Path) -> None:
    # A small LoRA adapter trained here, on the example's own pairs (none of them a suite
    # prompt), saved as safetensors and loaded back through `peft:` as an audit loads it.
    from audit.judges import make_judge
    from audit.misuse.parity import paired_difference
    from audit.models.base import LoadOptions
    from audit.models.schemes import load_weights
    from audit.registry import load_model
    from audit.suites.discovery import select

    pairs = example.read_pairs([example.data_path("eng")])
    harmful = [p for p in pairs if p["kind"] == "harmful"][:24]
    helpful = [p for p in pairs if p["kind"] != "harmful"][:8]
    train_lora = example._load_example("finetune_lora").train_lora
    weights = load_weights(example.BASE_URI, LoadOptions(device="cpu"))
    model, losses = train_lora(weights.model, weights.tokenizer, harmful + helpful, epochs=2,
                               batch_size=8, learning_rate=2e-3, rank=8, top_layers=4,
                               base_uri=example.BASE_URI, encode=example.encode_pairs)
    assert losses[-1] < losses[0]
    model.save_pretrained(tmp_path / "adapter", safe_serialization=True)
    tuned = load_model(f"peft:{example.BASE_URI}+{tmp_path / 'adapter'}",
                       LoadOptions(device="cpu"))

    suite = next(iter(select(["misuse/harmful"])))
    suite.judge = make_judge("patterns")
    base = _english_refusals(suite, smollm2, tmp_path / "base.jsonl")
    after = _english_refusals(suite, tuned, tmp_path / "tuned.jsonl")
    assert sorted(base) == sorted(after) and len(base) == 24
    difference = paired_difference([(after[u], base[u]) for u in sorted(base)])
    assert difference.ci_low > 0, difference  # the suite sees the adapter refuse more
