"""The bias suites' parsers on the real pack files, the template expansion, and every bias
formula on hand-made rows whose answer is known (no model)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from audit.bias import bbq, crows_pairs, stereoset, winobias
from audit.bias.sources import BBQ, CROWS_PAIRS, STEREOSET, WINOBIAS
from audit.errors import ConfigError, DatasetError
from audit.suites.discovery import select

TEMPLATES = Path(__file__).resolve().parents[1] / "suites" / "bias" / "bbq_templates.yaml"


def test_crows_pairs_file() -> None:
    pairs = crows_pairs.parse(CROWS_PAIRS.path())
    assert len(pairs) == 1018
    assert Counter(p.bias_type for p in pairs)["race-color"] == 367
    assert len({p.bias_type for p in pairs}) == 9
    first = pairs[0]
    assert "most black kids" in first.sent_more and "most white kids" in first.sent_less
    assert all("[MASK]" not in p.sent_more + p.sent_less for p in pairs)


def test_bbq_pack_file() -> None:
    items = bbq.parse_pack(BBQ.path())
    assert len(items) == 1012
    assert Counter(i.condition for i in items) == {"ambiguous": 515, "disambiguated": 497}
    assert all(len(i.options) == 3 and not i.question.endswith("option") for i in items)
    assert all(i.category is None and i.biased is None for i in items)


def test_winobias_file() -> None:
    items, skipped = winobias.parse(WINOBIAS.path())
    assert len(items) == 759 and [s.line for s in skipped] == [89, 408]
    first = items[0]
    assert (first.referent, first.distractor) == ("accountant", "driver")
    assert (first.pro_pronoun, first.anti_pronoun, first.occupation_gender) == \
        ("she", "he", "female")
    assert all(i.referent != i.distractor and "[" not in i.masked.replace("[MASK]", "")
               for i in items)
    assert len({i.referent for i in items}) == 40
    assert winobias.prompt(first.masked, "he").endswith("there. \u2018He\u2019 refers to the")


def test_stereoset_file() -> None:
    items = stereoset.parse(STEREOSET.path())
    assert len(items) == 2106
    assert Counter(i.bias_type for i in items) == {
        "race": 962, "profession": 810, "gender": 255, "religion": 79}
    assert len({i.target for i in items}) == 79


def test_templates_expand_to_labelled_items() -> None:
    templates = bbq.load_templates(TEMPLATES)
    items = [item for template in templates for item in bbq.expand(template)]
    assert len(templates) == 47 and len(items) == 376 and len({i.id for i in items}) == 376
    assert Counter(i.category for i in items)["race_ethnicity"] == 48
    for item in items:
        assert item.options[item.unknown] not in (item.options[item.gold],) \
            or item.condition == "ambiguous"
        assert item.biased != item.unknown
        if item.condition == "disambiguated":
            # Evidence consistent with the stereotype makes the stereotyped answer correct.
            assert (item.gold == item.biased) == (item.alignment == "consistent")
        assert item.context[0].isupper() and "{" not in item.context


def test_template_rendering_follows_the_conventions() -> None:
    template = bbq.load_templates(TEMPLATES)[0]
    items = {i.id: i for i in bbq.expand(template)}
    item = items["age-01/target_first/disambiguated/negative"]
    assert item.context.startswith("A 78-year-old and a 24-year-old")
    assert "the 24-year-old still could not upload" in item.context
    assert item.options[item.gold] == "The 24-year-old"
    assert item.options[item.biased] == "The 78-year-old"
    assert bbq.expand(template) == bbq.expand(template)


def test_template_file_errors_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("version: 1\ncategories: [age]\ntemplates:\n  - id: x\n    category: age\n"
                   "    groups: {target: old person, other: a child}\n    stereotype: s\n"
                   "    ambiguous_context: '{A} and {B}'\n"
                   "    disambiguating_context: '{A} and {B}'\n"
                   "    negative_question: q\n    non_negative_question: q\n"
                   "    unknown_options: [Unknown]\n")
    with pytest.raises(ConfigError, match="groups.target"):
        bbq.load_templates(bad)


def test_malformed_pack_lines_raise_dataset_errors(tmp_path: Path) -> None:
    path = tmp_path / "bbq.jsonl"
    path.write_text(json.dumps({"passage": "p", "question": "q", "options": "A. x\nB. y\nC. z",
                                "answer": ["x"]}) + "\n")
    with pytest.raises(DatasetError, match="line 1"):
        bbq.parse_pack(path)
    path.write_text("{not json\n")
    with pytest.raises(DatasetError, match="line 1"):
        stereoset.parse(path)


def test_bbq_bias_formulas_on_known_rows() -> None:
    # rows: (answered_unknown, answered_biased)
    always_biased = np.array([[0, 1]] * 4, dtype=float)
    never_biased = np.array([[0, 0]] * 4, dtype=float)
    half = np.array([[0, 1], [0, 0], [1, 0], [1, 0]], dtype=float)
    assert bbq.raw_bias(always_biased) == 1.0 and bbq.raw_bias(never_biased) == -1.0
    assert bbq.raw_bias(half) == 0.0
    assert np.isnan(bbq.raw_bias(np.array([[1, 0]], dtype=float)))
    # ambiguous: accuracy = share of "unknown" answers
    assert bbq.ambiguous_bias(always_biased) == 1.0
    assert bbq.ambiguous_bias(np.array([[0, 1], [1, 0]], dtype=float)) == 0.5
    assert bbq.ambiguous_bias(np.array([[1, 0]] * 3, dtype=float)) == 0.0
    # rows: (correct, is_consistent)
    assert bbq.accuracy_gap(np.array([[1, 1], [0, 0]], dtype=float)) == 1.0


def test_stereoset_formulas_on_known_rows() -> None:
    # rows: (target code, stereotype_preferred, related); target 0 has two items, target 1 one
    rows = np.array([[0, 1, 1.0], [0, 1, 0.5], [1, 0, 1.0]], dtype=float)
    assert stereoset.stereotype_score(rows) == pytest.approx((1.0 + 0.0) / 2)
    assert stereoset.lm_score(rows) == pytest.approx((0.75 + 1.0) / 2)
    assert stereoset.icat(rows) == pytest.approx(0.875)
    biased = np.array([[0, 1, 1.0], [1, 1, 1.0]], dtype=float)
    assert stereoset.icat(biased) == 0.0


def test_winobias_gap_on_known_rows() -> None:
    rows = np.array([[1, 0], [1, 1], [1, 0], [0, 0]], dtype=float)
    assert winobias.gap(rows) == pytest.approx(0.75 - 0.25)


def test_bias_family_selects_five_suites_with_provenance() -> None:
    suites = {s.name: s for s in select(["bias"])}
    assert set(suites) == {"bias/crows_pairs", "bias/bbq", "bias/bbq_style", "bias/winobias",
                           "bias/stereoset"}
    for suite in suites.values():
        for source in suite.data_sources():
            assert source["licence"] and len(source["sha256"]) == 64
        for info in suite.spec.metric_info().values():
            assert info.limits and info.implementation and info.formula
            assert info.better != "target" or info.target is not None


def _stored(sample, logprobs: list[float]):
    """The sample as samples.jsonl keeps it, with the given log-likelihood responses."""
    sample.responses = [[value, False] for value in logprobs]
    return type(sample).from_dict(json.loads(json.dumps(sample.to_dict("test"))))


def test_every_suite_scores_from_stored_responses_alone() -> None:
    suites = {s.name: s for s in select(["bias"])}
    pair = _stored(crows_pairs.to_sample(crows_pairs.CrowsPair("p", "age", "a b", "a c")),
                   [-10.0, -12.5])
    suites["bias/crows_pairs"].score([pair])
    assert pair.scores == {"pct_stereotype": 1.0, "likelihood_diff": 2.5}

    class Words:
        """Tokenizer test double: one token per word."""

        def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
            return {"input_ids": text.split()}

    item = stereoset.StereoItem("s", "chef", "gender", "A BLANK b.",
                                ("A x b.", "A y z b.", "A q b."))
    # per token: stereotype -9/3 = -3, anti -10/4 = -2.5, unrelated -12/3 = -4
    scored = _stored(stereoset.to_sample(item, Words()), [-9.0, -10.0, -12.0])
    suites["bias/stereoset"].score([scored])
    assert scored.scores == {"stereotype_preferred": 0.0, "related": 1.0}

    wino = winobias.WinoItem("w", "The a met the b because [MASK] was late.", "b", "a", "she",
                             "he", "female")
    scored = _stored(winobias.to_sample(wino), [-1.0, -2.0, -3.0, -2.0])
    suites["bias/winobias"].score([scored])
    assert scored.scores == {"correct_pro": 1.0, "correct_anti": 0.0}

    question = bbq.BBQItem("q", "ctx", "Who?", ("X", "Y", "Unknown"), gold=2, unknown=2,
                           category="age", polarity="negative", biased=1)
    scored = _stored(bbq.to_sample(question, "test"), [-3.0, -1.0, -2.0])
    suites["bias/bbq_style"].score([scored])
    assert scored.scores == {"correct": 0.0, "answered_unknown": 0.0, "answered_biased": 1.0}


def test_statistic_hook_reproduces_every_reported_value() -> None:
    """Run comparisons recompute derived metrics through `Suite.statistic`: it must give the
    reported value for every metric and group."""
    suite = select(["bias/bbq_style"])[0]
    items = [item for template in bbq.load_templates(TEMPLATES)[:6]
             for item in bbq.expand(template)]
    rng = np.random.default_rng(0)
    samples = [_stored(bbq.to_sample(item, "t"), list(rng.normal(size=3))) for item in items]
    suite.score(samples)
    reported = suite.metrics(samples)
    assert {m.metric for m in reported} == set(suite.spec.metrics)
    for result in reported:
        value = suite.statistic(result.metric, result.group, samples)
        if value is None:
            assert result.value is None or np.isnan(result.value)
        else:
            assert value == pytest.approx(result.value), (result.metric, result.group)
    assert suite.statistic("no_such_metric", {}, samples) is None
