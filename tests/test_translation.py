"""The translation suite: chrF++ on inputs with a hand-computed score, the copy baseline,
per-language and tier values on known outputs, paired comparison, FLORES items, a real run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sacrebleu

from audit.multilingual import translation as tr
from audit.multilingual.hub import standard_set
from audit.multilingual.items import Language, LanguageItems, ParallelSet, Question
from audit.report.compare import PAIRED_STATISTIC, compare_pair
from audit.suites.base import Sample, SuiteContext
from audit.suites.discovery import build_suite, suites_root
from audit.suites.spec import load_spec
from tests.handmade_runs import write_run

ENG = Language("eng", "English", "Latn", "high", "ENGLISH")
FRA = Language("fra", "French", "Latn", "high", "FRENCH")
SWH = Language("swh", "Swahili", "Latn", "mid", "SWAHILI")
AMH = Language("amh", "Amharic", "Ethi", "low", None)
SUITE = "multilingual/translation"

# chrF++ of "ab" against "abc", by hand from Popovic's definition as sacreBLEU implements it:
# character n-grams (spaces removed): 1-grams hyp 2, ref 3, matched 2; 2-grams 1, 2, 1;
# 3-grams 0, 1, 0. Word 1-grams: "ab" vs "abc", 1, 1, 0. Orders with both sides non-empty:
# char 1 (P 1, R 2/3), char 2 (P 1, R 1/2), word 1 (P 0, R 0). Mean P = 2/3, mean R = 7/18;
# F2 = 5 P R / (4 P + R) = 14/33.
AB_VS_ABC = 100 * 14 / 33
AB_VS_ABC_COUNTS = [2, 3, 2, 1, 2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]


def test_chrf_plus_plus_known_value_through_evaluate() -> None:
    scorer = tr.load_scorer(try_hub=False)
    assert scorer.statistics(["ab"], ["abc"]) == [AB_VS_ABC_COUNTS]
    result = scorer.local.compute(predictions=["ab"], references=["abc"])
    assert result["score"] == pytest.approx(AB_VS_ABC)
    assert tr.chrf_from_statistics(np.array([AB_VS_ABC_COUNTS])) == pytest.approx(AB_VS_ABC)
    assert tr.chrf_from_statistics(np.array(scorer.statistics(["abc"], ["abc"]))) == 100.0


def test_corpus_chrf_from_summed_counts_equals_sacrebleu() -> None:
    hypotheses = ["The cat sat on the mat.", "It rained all day", "Hello!"]
    references = ["The cat is sitting on the mat.", "It was raining all day.", "Hi there."]
    rows = np.array(tr.load_scorer(try_hub=False).statistics(hypotheses, references))
    expected = sacrebleu.corpus_chrf(hypotheses, [references], word_order=2).score
    assert tr.chrf_from_statistics(rows) == pytest.approx(expected)
    # The corpus score is not the mean of sentence scores: summed counts weight long sentences.
    sentence_mean = np.mean([tr.chrf_from_statistics(row[None]) for row in rows])
    assert abs(sentence_mean - expected) > 0.1


def test_reading_the_translation_out_of_an_answer() -> None:
    assert tr.read_translation("\n  French: Bonjour.\nEnglish: Hello", FRA) == "Bonjour."
    assert tr.read_translation("Bonjour le monde\nmore", FRA) == "Bonjour le monde"
    assert tr.read_translation(" \n123\n", FRA) == ""
    assert tr.prompt("Hi.", ENG, FRA).endswith("English: Hi.\nFrench:")


def _tiny_set() -> ParallelSet:
    texts = {"eng": ("Good morning, friend.", "The water is cold."),
             "fra": ("Bonjour, mon ami.", "L'eau est froide."),
             "swh": ("Habari za asubuhi, rafiki.", "Maji ni baridi."),
             "amh": ("እንደምን አደርክ ወዳጄ።", "ውሃው ቀዝቃዛ ነው።")}
    languages = {}
    for language in (ENG, FRA, SWH, AMH):
        first, second = texts[language.code]
        languages[language.code] = LanguageItems(
            language, {"s1": first, "s2": second},
            {"q1": Question("q1", "?", ("a", "b", "c", "d"), 0)}, {"p1": first})
    return ParallelSet(languages, source="test")


def _suite(items: ParallelSet):
    spec = load_spec(suites_root() / "multilingual" / "translation", SUITE)
    return type(build_suite(spec))(spec, items=items)


def _answer(sample: Sample, wrong: set[str]) -> None:
    """The reference itself (a perfect translation) except for languages in `wrong`, which
    copy the source; French to English answers with a label, as chat models do."""
    code = sample.data["language"]["code"]
    target = sample.data["target_language"]["name"]
    text = sample.data["source"] if code in wrong else sample.data["reference"]
    sample.responses = [f"{target}: {text}\n" if code == "fra" else text]


def _scored(wrong: set[str]):
    suite = _suite(_tiny_set())
    samples = suite.build_samples(SuiteContext(model=None, profile="standard"))
    for sample in samples:
        _answer(sample, wrong)
    samples = [Sample.from_dict(s.to_dict(SUITE)) for s in samples]  # as samples.jsonl keeps
    suite.score(samples)
    return suite, samples, suite.metrics(samples)


def _value(results, metric: str, **group: str):
    found = [r for r in results if r.metric == metric and r.group == group]
    assert len(found) == 1, (metric, group, found)
    return found[0]


def _copy_score(code: str, direction: str) -> float:
    items = _tiny_set().languages
    source, target = (items["eng"], items[code]) if direction == "from_eng" else \
        (items[code], items["eng"])
    ids = sorted(source.sentences)
    return sacrebleu.corpus_chrf([source.sentences[i] for i in ids],
                                 [[target.sentences[i] for i in ids]], word_order=2).score


def test_suite_scores_known_translations_per_language_and_tier() -> None:
    suite, samples, results = _scored(wrong={"swh"})
    assert len(samples) == 3 * 2 * 2  # three languages besides English, two ways, 2 sentences
    fra = {"language": "fra", "tier": "high"}
    assert _value(results, "chrf_from_eng", **fra).value == 100.0
    assert _value(results, "chrf_to_eng", **fra).value == 100.0
    swh = _value(results, "chrf_from_eng", language="swh", tier="mid")
    assert swh.value == pytest.approx(_copy_score("swh", "from_eng"))
    # Two sentences are too few for a bootstrap (audit.stats.BOOTSTRAP_MIN_N): no interval.
    assert swh.n == 2 and swh.ci_low is None and swh.ci_high is None
    assert swh.ci_method.startswith("none: fewer than")
    for code, tier in (("fra", "high"), ("swh", "mid"), ("amh", "low")):
        for direction in ("from_eng", "to_eng"):
            assert _value(results, f"copy_chrf_{direction}", language=code, tier=tier).value \
                == pytest.approx(_copy_score(code, direction))
    overall = _value(results, "chrf_from_eng").value
    assert overall == pytest.approx((100 + swh.value + 100) / 3)
    assert _value(results, "chrf_from_eng", tier="mid", languages="swh").value == swh.value
    # Swahili copied English, so it did not come back in Swahili; Amharic is not measurable.
    assert _value(results, "fidelity_from_eng", language="swh", tier="mid").value == 0.0
    assert _value(results, "fidelity_to_eng", language="fra", tier="high").value == 1.0
    assert "fidelity_from_eng (amh)" in {s["what"] for s in suite.skipped()}
    implementation = suite.spec.metric_info()["chrf_from_eng"].implementation
    assert "local module" in implementation and "not tried" not in implementation


def test_statistic_hook_reproduces_every_reported_chrf() -> None:
    suite, samples, results = _scored(wrong={"swh", "amh"})
    chrf = [r for r in results if "chrf" in r.metric]
    assert chrf
    for result in chrf:
        assert suite.statistic(result.metric, result.group, samples) == \
            pytest.approx(result.value), (result.metric, result.group)
    assert suite.statistic("fidelity_from_eng", {}, samples) is None


def _run(reports: Path, run_id: str, wrong: set[str]):
    suite, samples, results = _scored(wrong)
    entry = {"family": "multilingual", "description": "translation", "n_samples": len(samples),
             "limits": "", "data": [], "skipped": suite.skipped(),
             "metric_info": {k: v.to_dict() for k, v in suite.spec.metric_info().items()},
             "metrics": [r.to_dict() for r in results]}
    records = json.loads(json.dumps([s.to_dict(SUITE) for s in samples]))
    return write_run(reports, run_id, {SUITE: entry}, records)


def test_compare_gives_paired_deltas_per_language(tmp_path: Path) -> None:
    base = _run(tmp_path, "base", wrong={"swh"})
    tuned = _run(tmp_path, "tuned", wrong={"fra"})  # Swahili got better, French worse
    hook = _suite(_tiny_set())
    deltas = compare_pair(base, tuned, statistics={
        SUITE: lambda metric, group, records: hook.statistic(
            metric, group, [Sample.from_dict(r) for r in records])})
    by = {(d.metric, d.group.get("language")): d for d in deltas if set(d.group) != {"tier",
                                                                                    "languages"}}
    swh, fra = by[("chrf_from_eng", "swh")], by[("chrf_from_eng", "fra")]
    assert swh.method == PAIRED_STATISTIC and swh.improved and swh.delta > 0
    assert swh.delta == pytest.approx(100 - _copy_score("swh", "from_eng"))
    assert fra.delta == pytest.approx(_copy_score("fra", "from_eng") - 100) and not fra.improved
    assert by[("chrf_to_eng", "amh")].delta == 0.0
    assert by[("copy_chrf_to_eng", "swh")].delta == 0.0  # the baseline does not move
    assert by[("fidelity_from_eng", "swh")].delta == 1.0  # a per-item mean, paired directly


def test_flores_sentences_become_translation_pairs(tmp_path: Path) -> None:
    for config, words in (("eng_Latn", ("One.", "Two.")), ("fra_Latn", ("Un.", "Deux."))):
        path = tmp_path / config / "devtest.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text("".join(json.dumps({"id": i + 1, "text": w}) + "\n"
                                for i, w in enumerate(words)), "utf-8")
    items = standard_set(_tiny_set(), flores=str(tmp_path), languages=["eng", "fra"])
    suite = _suite(items)
    samples = suite.build_samples(SuiteContext(model=None, profile="standard"))
    pairs = {(s.data["direction"], s.data["source"], s.data["reference"]) for s in samples}
    assert pairs == {("from_eng", "One.", "Un."), ("from_eng", "Two.", "Deux."),
                     ("to_eng", "Un.", "One."), ("to_eng", "Deux.", "Two.")}
    assert suite.spec.data[0].name == "FLORES-200"


def test_quick_profile_is_small_and_the_same_sentences_everywhere() -> None:
    suite = _suite(None)  # the project's set
    samples = suite.build_samples(SuiteContext(model=None, profile="quick"))
    ids = {s.data["item"] for s in samples}
    assert len(ids) == 3 and len(samples) == 15 * 2 * 3
    assert all(s.requests[0].args[1]["max_gen_toks"] == 40 for s in samples)
    assert all(s.requests[0].args[1]["until"] == ["\n"] for s in samples)  # no chat template


@pytest.mark.slow
def test_real_smollm2_run_of_the_suite(smollm2, tmp_path: Path) -> None:
    from audit.config import RunConfig
    from audit.execution import RequestCache
    from audit.multilingual.items import load_item_set
    from audit.runner import run_suite

    project = load_item_set(suites_root() / "multilingual" / "data")
    items = ParallelSet({code: project.languages[code] for code in ("eng", "fra")},
                        project.source)
    config = RunConfig(suites=[SUITE], limit=1, device="cpu", out=tmp_path)
    results, energy, records = run_suite(_suite(items), smollm2, config,
                                         RequestCache(tmp_path / "cache.jsonl", "smollm2"))
    assert energy["n_requests"] == 2
    assert all(isinstance(r["data"]["translation"], str) for r in records)
    chrf = [m for m in results["metrics"] if m["metric"] == "chrf_from_eng"
            and m["group"].get("language") == "fra"][0]
    assert 0 <= chrf["value"] <= 100 and chrf["n"] == 1
    assert "evaluate" in results["metric_info"]["chrf_from_eng"]["implementation"]


def test_language_and_tier_groups_reach_the_dashboard_heat_map() -> None:
    from audit.report.frames import metrics_frame

    suite, _, results = _scored(wrong=set())
    entry = {"family": "multilingual", "metrics": [r.to_dict() for r in results],
             "metric_info": {k: v.to_dict() for k, v in suite.spec.metric_info().items()}}
    frame = metrics_frame({"suites": {SUITE: entry}}, "run", "model")
    by_language = frame[frame["group_dim"] == "language"]
    assert set(by_language["group_value"]) == {"fra", "swh", "amh"}
    assert {"chrf_from_eng", "chrf_to_eng", "copy_chrf_from_eng"} <= set(by_language["metric"])
    assert frame[frame["group"].str.contains("languages=")]["group_dim"].isna().all()


def test_a_chrf_folder_in_the_working_directory_is_never_run(tmp_path: Path, monkeypatch
                                                            ) -> None:
    planted = tmp_path / "chrf" / "chrf.py"
    planted.parent.mkdir()
    planted.write_text("open('ran.txt', 'w').write('planted code ran')\n")
    monkeypatch.chdir(tmp_path)
    tr.load_scorer.cache_clear()
    try:
        scorer = tr.load_scorer()
    finally:
        tr.load_scorer.cache_clear()
    assert scorer.hub is None and "would shadow it" in scorer.description
    assert not (tmp_path / "ran.txt").exists()


def test_chrf_interval_covers_the_population_value() -> None:
    """Simulation: sentences drawn from a population of count rows; the bootstrap 95% interval
    of corpus chrF++ should hold the population's corpus chrF++ about 95% of the time."""
    from audit.stats import estimate_statistic

    rng = np.random.default_rng(7)
    size, orders = 4000, tr.CHAR_ORDER + tr.WORD_ORDER
    reference = rng.integers(8, 60, (size, orders))
    hypothesis = np.maximum(reference + rng.integers(-10, 11, (size, orders)), 1)
    quality = rng.beta(2, 3, size)[:, None] * np.linspace(1.0, 0.3, orders)[None, :]
    matched = rng.binomial(np.minimum(hypothesis, reference), quality)
    population = np.stack([hypothesis, reference, matched], axis=2).reshape(size, -1)
    truth = tr.chrf_from_statistics(population)
    replications, covered = 120, 0
    for _ in range(replications):
        drawn = population[rng.integers(0, size, 40)]
        estimate = estimate_statistic(tr.chrf_from_statistics, drawn)
        covered += estimate.ci_low <= truth <= estimate.ci_high
    assert 0.87 <= covered / replications <= 0.99, covered
