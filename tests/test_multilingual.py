"""The multilingual suite: every metric on inputs with a known answer, and one real run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from audit.models.base import LoadedModel, ModelProvenance
from audit.multilingual import fidelity as fid
from audit.multilingual import measures
from audit.multilingual.items import (
    Language,
    LanguageItems,
    ParallelSet,
    Question,
    load_item_set,
)
from audit.multilingual.text import (
    count_bytes,
    count_characters,
    count_tokens,
    count_words,
    latin_words,
    script_share,
)
from audit.suites.base import Sample, SuiteContext
from audit.suites.discovery import build_suite, suites_root
from audit.suites.spec import load_spec

ENG = Language("eng", "English", "Latn", "high", "ENGLISH")
FRA = Language("fra", "French", "Latn", "high", "FRENCH")
HIN = Language("hin", "Hindi", "Deva", "mid", "HINDI")
IND = Language("ind", "Indonesian", "Latn", "mid", "INDONESIAN")
AMH = Language("amh", "Amharic", "Ethi", "low", None)
NAMES = fid.candidates([ENG, FRA, HIN, IND, AMH])


def whitespace_tokenizer():
    """Test double: a real HF fast tokenizer that makes one token per word or punctuation run."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]")


def test_text_counts_known_values() -> None:
    assert count_words("Hello, world . 42") == 3  # the lone "." holds no letter or digit
    assert count_characters("a b\tc") == 3
    assert count_bytes("नमस्ते") == 18  # six Devanagari code points, 3 bytes each
    assert count_tokens(whitespace_tokenizer(), "Hello, world.") == 4
    assert script_share("नमस्ते hello", "Deva") == pytest.approx(4 / 9)
    assert latin_words("यह ठीक है OK ठीक") == ["OK"]


def test_measures_known_values() -> None:
    rows = np.array([[3.0, 1.0], [5.0, 3.0]])
    assert measures.ratio_of_sums(rows) == 2.0
    assert measures.relative_ratio(np.array([[4.0, 1.0, 2.0, 2.0]])) == 4.0
    correct = np.array([[1, 1], [1, 1], [0, 1], [0, 0]], dtype=float)  # L: 0.5, eng: 0.75
    assert measures.mean_difference(correct) == pytest.approx(-0.25)
    assert measures.parity(correct) == pytest.approx(0.5)
    assert math.isnan(measures.parity(np.array([[1.0, 0.0], [0.0, 0.0]])))
    assert measures.fidelity(np.array([[1.0, math.nan], [0.0, math.nan]])) == 0.5
    assert measures.fidelity(np.array([[1.0, 1.0], [1.0, 0.0]])) == pytest.approx(2 / 3)
    stacked = np.stack([correct, correct[:, ::-1]], axis=1)  # parities 0.5 and 2.0
    assert measures.across_languages(measures.parity)(stacked) == pytest.approx(1.25)


def test_fidelity_of_known_language_strings() -> None:
    assert fid.line_verdict("Le chat dort sur le canapé du salon.", FRA, NAMES).passed
    mixed = "Le chat dort sur le canapé du salon.\nThe dog is sleeping in the garden."
    assert not fid.line_verdict(mixed, FRA, NAMES).passed
    assert not fid.line_verdict("  \n123\n", FRA, NAMES).passed  # nothing to identify
    assert fid.word_pass("मुझे चाय पसंद है।") and not fid.word_pass("मुझे tea पसंद है।")
    assert fid.script_pass("ቡና እወዳለሁ።", "Ethi") and not fid.script_pass("I like coffee", "Ethi")


def test_indonesian_read_as_malay_passes_as_close_language() -> None:
    text = "Tidur nyenyak pada malam sebelum ujian itu penting."
    assert fid.identify(text, NAMES) == "MALAY"  # the confusion this rule exists for
    verdict = fid.line_verdict(text, IND, NAMES)
    assert verdict.passed and verdict.via_close_language
    assert not fid.line_verdict(text, Language("msa", "Malay", "Latn", "mid", "FRENCH"),
                                NAMES).passed


def test_project_item_set_is_parallel_and_complete() -> None:
    items = load_item_set(suites_root() / "multilingual" / "data")
    assert len(items.languages) >= 15
    assert {lang.language.tier for lang in items.languages.values()} == {"high", "mid", "low"}
    for language_items in items.languages.values():
        assert len(language_items.sentences) >= 100 and len(language_items.questions) >= 60


def _tiny_set() -> ParallelSet:
    question = ("q1", "q2", "q3", "q4")
    texts = {"eng": ("Hello, world.", "Good day to you."),
             "fra": ("Bonjour, le monde.", "Bonne journée à vous."),
             "hin": ("नमस्ते, दुनिया।", "आपका दिन शुभ हो।"),
             "amh": ("ሰላም ዓለም።", "መልካም ቀን።")}
    languages = {}
    for language in (ENG, FRA, HIN, AMH):
        first, second = texts[language.code]
        languages[language.code] = LanguageItems(
            language, {"s1": first, "s2": second},
            {q: Question(q, f"{language.code} {q}?", ("a", "b", "c", "d"), 0) for q in question},
            {"p1": first, "p2": second})
    return ParallelSet(languages, source="test")


GENERATIONS = {
    "eng": ["The weather is lovely and warm today.", "I enjoy reading books in the evening."],
    "fra": ["Il fait très beau et chaud aujourd'hui.", "I enjoy reading books in the evening."],
    "hin": ["आज मौसम बहुत अच्छा और सुहावना है।", "मुझे शाम को books पढ़ना अच्छा लगता है।"],
    "amh": ["ዛሬ አየሩ በጣም ጥሩ ነው።", "I like it."],
}
CORRECT = {"eng": [1, 1, 1, 0], "fra": [1, 1, 0, 0], "hin": [1, 0, 0, 0], "amh": [1, 1, 1, 0]}


def _respond(sample: Sample) -> None:
    """Known responses: rolling log-likelihood of -8 ln 2 nats per byte (2 bits per byte,
    except Amharic: 1), chosen MC outcomes, fixed generations."""
    code, part, item = (sample.data["language"]["code"], sample.data["part"],
                        sample.data["item"])
    if part == "sentences":
        per_byte = 1.0 if code == "amh" else 2.0
        sample.responses = [-per_byte * sample.data["bytes"] * math.log(2)]
    elif part == "questions":
        right = CORRECT[code][int(item[1]) - 1]
        sample.responses = [[-1.0 if right else -5.0, False], [-3.0, False], [-4.0, False],
                            [-2.0 if not right else -6.0, False]]
    else:
        sample.responses = [GENERATIONS[code][int(item[1]) - 1]]


def _value(results, metric: str, **group: str) -> float:
    found = [r for r in results if r.metric == metric and r.group == group]
    assert len(found) == 1, (metric, group, found)
    return found[0].value


@pytest.fixture(scope="module")
def scored():
    spec = load_spec(suites_root() / "multilingual", "multilingual")
    suite = type(build_suite(spec))(spec, items=_tiny_set())
    model = LoadedModel(lm=None, provenance=ModelProvenance("test", "test", "whitespace"),
                        tokenizer=whitespace_tokenizer())
    samples = suite.build_samples(SuiteContext(model=model, profile="standard"))
    for sample in samples:
        _respond(sample)
    # Rescoring reads only what samples.jsonl keeps: round-trip through the stored form.
    samples = [Sample.from_dict(s.to_dict("multilingual")) for s in samples]
    suite.score(samples)
    return suite, suite.metrics(samples)


def test_fertility_and_token_premium_known_values(scored) -> None:
    _, results = scored
    eng = {"language": "eng", "tier": "high"}
    # "Hello, world." = 4 tokens / 2 words; "Good day to you." = 5 tokens / 4 words.
    assert _value(results, "tokens_per_word", **eng) == pytest.approx(9 / 6)
    assert _value(results, "tokens_per_char", **eng) == pytest.approx(9 / 25)
    # French: "Bonjour , le monde ." 5 + "Bonne journée à vous ." 5 = 10 tokens vs 9.
    assert _value(results, "token_premium", language="fra", tier="high") == pytest.approx(10 / 9)


def test_bits_per_byte_known_values(scored) -> None:
    _, results = scored
    assert _value(results, "bits_per_byte", language="hin", tier="mid") == pytest.approx(2.0)
    assert _value(results, "bpb_vs_eng", language="amh", tier="low") == pytest.approx(0.5)
    bytes_amh = count_bytes("ሰላም ዓለም።") + count_bytes("መልካም ቀን።")
    bytes_eng = count_bytes("Hello, world.") + count_bytes("Good day to you.")
    assert _value(results, "bits_premium", language="amh", tier="low") == \
        pytest.approx(bytes_amh / (2 * bytes_eng))


def test_accuracy_gap_and_parity_known_values(scored) -> None:
    _, results = scored
    assert _value(results, "mc_acc", language="eng", tier="high") == 0.75
    assert _value(results, "mc_gap", language="fra", tier="high") == pytest.approx(-0.25)
    assert _value(results, "parity", language="fra", tier="high") == pytest.approx(0.5)
    assert _value(results, "parity", language="hin", tier="mid") == 0.0
    assert _value(results, "parity_worst", language="hin", tier="mid") == 0.0
    assert _value(results, "parity", tier="high", languages="fra") == pytest.approx(0.5)
    assert _value(results, "parity") == pytest.approx((0.5 + 0.0 + 1.0) / 3)
    parity = [r for r in results if r.metric == "parity" and r.group.get("language") == "fra"][0]
    # 4 items are below the bootstrap's minimum: no interval rather than a collapsed one.
    assert parity.n == 4 and parity.ci_low is None and parity.ci_high is None


def test_fidelity_known_values(scored) -> None:
    suite, results = scored
    assert _value(results, "fidelity_line", language="eng", tier="high") == 1.0
    assert _value(results, "fidelity_line", language="fra", tier="high") == 0.5
    assert _value(results, "fidelity_word", language="hin", tier="mid") == 0.5
    assert _value(results, "fidelity", language="hin", tier="mid") == pytest.approx(2 / 3)
    assert _value(results, "script_fidelity", language="amh", tier="low") == 0.5
    assert not [r for r in results if r.metric == "fidelity_line" and
                r.group.get("language") == "amh"]
    assert any(s["what"] == "fidelity (amh)" for s in suite.skipped())
    assert _value(results, "detector_check", language="hin", tier="mid") == 1.0


@pytest.mark.slow
def test_real_smollm2_run_of_the_suite(smollm2, tmp_path: Path) -> None:
    from audit.config import RunConfig
    from audit.execution import RequestCache
    from audit.runner import run_suite

    spec = load_spec(suites_root() / "multilingual", "multilingual")
    project = load_item_set(suites_root() / "multilingual" / "data")
    chosen = ("eng", "cmn", "hin", "hau")  # Latin, unspaced, Devanagari, no lingua model
    items = ParallelSet({code: project.languages[code] for code in chosen}, project.source)
    suite = type(build_suite(spec))(spec, items=items)
    # --limit 3: three parallel items, drawn round-robin over the parts (one sentence, one
    # question, one prompt), each asked in every language.
    config = RunConfig(suites=["multilingual"], limit=3, device="cpu", out=tmp_path)
    results, energy, records = run_suite(
        suite, smollm2, config, RequestCache(tmp_path / "cache.jsonl", "smollm2"))
    metrics = results["metrics"]
    assert {m["group"]["language"] for m in metrics if "language" in m["group"]} == set(chosen)
    assert all("tier" in m["group"] for m in metrics if "language" in m["group"])
    premium = [m for m in metrics if m["metric"] == "token_premium"
               and m["group"].get("language") == "hin"][0]
    assert premium["value"] > 2  # an English-centred tokenizer splits Devanagari finely
    generations = [r for r in records if r["data"]["part"] == "prompts"]
    assert all(isinstance(r["responses"][0], str) for r in generations)
    assert energy["n_requests"] == len(chosen) * (1 + 4 + 1)
    assert {"fidelity (hau)", "tokens_per_word (cmn)"} <= {s["what"] for s in results["skipped"]}
