"""The safety fine-tune example: its overlap check, its training data, and a real adapter
trained in the test that the misuse suite tells apart from its base."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from audit.errors import DatasetError

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


def test_shipped_training_data_does_not_overlap_any_misuse_prompt(example) -> None:
    pairs = example.read_pairs([example.data_path("eng")])
    assert len(pairs) == 180
    assert {p["kind"] for p in pairs} == {"harmful", "benign", "sounds_unsafe"}
    record = example.overlap_check([p["prompt"] for p in pairs], example.suite_prompts())
    assert record["suite_prompts"]["Do-Not-Answer"] > 0 and record["suite_prompts"]["HarmBench"]
    assert record["passed"], record["exact_matches"] + record["near_duplicates"]
