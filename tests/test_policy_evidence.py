"""Policy rules at tiny n, at the boundary and for lower-is-better metrics.

The results below are written by hand (values, n and 95% intervals as fixed numbers), so no
verdict depends on the interval code: each expected status follows from the rule's text.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from audit.evidence import POLICY_MIN_N
from audit.policy import GateResult, Policy, RuleVerdict, evaluate_policy, gap_upper_bound

INSUFFICIENT = "insufficient evidence"


def metric(name: str, value: float, n: int, low: float | None, high: float | None,
           **group: str) -> dict[str, Any]:
    return {"metric": name, "value": value, "n": n, "stderr": None, "ci_low": low,
            "ci_high": high, "ci_method": "written by hand", "group": group}


def results(metrics: list[dict[str, Any]], better: str = "higher") -> dict[str, Any]:
    names = {m["metric"] for m in metrics}
    return {"suites": {"s/x": {"family": "multilingual", "metric_info": {
        name: {"unit": "proportion", "better": better} for name in names},
        "metrics": metrics}}}


def gate(rule: dict[str, Any], found: dict[str, Any]) -> GateResult:
    return evaluate_policy(Policy.model_validate({"name": "p", "rules": [rule]}), found)


THRESHOLD = {"id": "t", "suite": "s/*", "metric": "acc", "op": ">=", "threshold": 0.5}


@pytest.mark.parametrize(("rule", "entry", "status", "passed"), [
    # enough items, point above: pass
    ({}, metric("acc", 0.6, 100, 0.5, 0.7), "pass", True),
    # exactly at the threshold passes >= (boundary)
    ({}, metric("acc", 0.5, 100, 0.4, 0.6), "pass", True),
    # just below fails
    ({}, metric("acc", 0.49, 100, 0.39, 0.59), "fail", False),
    # n = 1 and n = 2: insufficient evidence, never a pass, and the gate fails
    ({}, metric("acc", 1.0, 1, 0.025, 1.0), INSUFFICIENT, False),
    ({}, metric("acc", 1.0, 2, 0.16, 1.0), INSUFFICIENT, False),
    # one item short of the default minimum, then exactly at it
    ({}, metric("acc", 0.9, POLICY_MIN_N - 1, 0.7, 0.98), INSUFFICIENT, False),
    ({}, metric("acc", 0.9, POLICY_MIN_N, 0.7, 0.98), "pass", True),
    # a rule's own min_n
    ({"min_n": 5}, metric("acc", 0.9, 6, 0.5, 0.99), "pass", True),
    ({"min_n": 500}, metric("acc", 0.9, 400, 0.87, 0.93), INSUFFICIENT, False),
    # no interval: insufficient even with many items
    ({}, metric("acc", 0.9, 100, None, None), INSUFFICIENT, False),
    # interval evidence: the lower end decides
    ({"evidence": "interval"}, metric("acc", 0.6, 100, 0.49, 0.7), "fail", False),
    ({"evidence": "interval"}, metric("acc", 0.6, 100, 0.5, 0.7), "pass", True),
    # lower-is-better through op <=: the upper end decides under interval evidence
    ({"op": "<=", "threshold": 0.2, "evidence": "interval"},
     metric("acc", 0.1, 100, 0.05, 0.21), "fail", False),
    # a warn rule with too little evidence is reported, not passed, and does not block
    ({"severity": "warn"}, metric("acc", 1.0, 2, 0.16, 1.0), INSUFFICIENT, True),
])
def test_threshold_rule_table(rule: dict, entry: dict, status: str, passed: bool) -> None:
    result = gate({**THRESHOLD, **rule}, results([entry]))
    assert [v.status for v in result.verdicts] == [status]
    assert result.passed is passed


def test_insufficient_evidence_says_the_n_it_needs() -> None:
    verdict = gate(THRESHOLD, results([metric("acc", 1.0, 2, 0.16, 1.0)])).verdicts[0]
    assert f"needs n >= {POLICY_MIN_N}" in verdict.evidence and "n=2" in verdict.evidence


GAP = {"id": "g", "kind": "language_gap", "suite": "s/*", "metric": "acc", "reference": "eng",
       "max_gap": 0.15}


@pytest.mark.parametrize(("better", "rule", "eng", "other", "status"), [
    # higher is better; 10 points behind, bound 0.10 + hypot(0.05, 0.05) = 0.1707
    ("higher", {}, (0.8, 0.75, 0.85), (0.7, 0.65, 0.75), "pass"),
    ("higher", {"evidence": "interval"}, (0.8, 0.75, 0.85), (0.7, 0.65, 0.75), "fail"),
    # bound exactly at max_gap passes (boundary): 0.05 + hypot(0.06, 0.08) = 0.15
    ("higher", {"evidence": "interval"}, (0.8, 0.7, 0.86), (0.75, 0.67, 0.8), "pass"),
    # 20 points behind fails on the point
    ("higher", {}, (0.9, 0.85, 0.95), (0.7, 0.65, 0.75), "fail"),
    # lower is better: the other language's value 20 points ABOVE English is behind
    ("lower", {}, (0.1, 0.05, 0.15), (0.3, 0.25, 0.35), "fail"),
    # lower is better: 20 points below English is ahead, a pass
    ("lower", {}, (0.3, 0.25, 0.35), (0.1, 0.05, 0.15), "pass"),
])
def test_gap_rule_table(better: str, rule: dict, eng: tuple, other: tuple, status: str) -> None:
    found = results([metric("acc", eng[0], 100, eng[1], eng[2], language="eng"),
                     metric("acc", other[0], 100, other[1], other[2], language="fra")], better)
    assert [v.status for v in gate({**GAP, **rule}, found).verdicts] == [status]


def test_gap_rule_on_two_items_per_language_is_insufficient() -> None:
    # The example policy's old failure: n = 2 per language, both at 0%, was a green pass.
    found = results([metric("acc", 0.0, 2, 0.0, 0.84, language="eng"),
                     metric("acc", 0.0, 2, 0.0, 0.84, language="amh")])
    result = gate(GAP, found)
    assert [v.status for v in result.verdicts] == [INSUFFICIENT] and not result.passed


def test_gap_upper_bound_known_values_and_sign() -> None:
    eng = {"value": 0.8, "ci_low": 0.7, "ci_high": 0.86}
    fra = {"value": 0.75, "ci_low": 0.67, "ci_high": 0.8}
    assert gap_upper_bound(eng, fra, True) == pytest.approx(0.05 + 0.1)
    # fra 50 points AHEAD: the bound on the shortfall is negative, printed with its sign
    ahead = {"value": 1.0, "ci_low": 0.9, "ci_high": 1.0}
    low = {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    assert gap_upper_bound(low, ahead, True) == pytest.approx(-0.5 + (0.1**2 + 0.1**2) ** 0.5)
    found = results([metric("acc", 0.5, 100, 0.4, 0.6, language="eng"),
                     metric("acc", 1.0, 100, 0.9, 1.0, language="fra")])
    evidence = gate(GAP, found).verdicts[0].evidence
    assert "50.0 points ahead of eng" in evidence and "-35.9 points" in evidence


def verdict(status: str, light: str, evidence: str, **fields: Any) -> RuleVerdict:
    return RuleVerdict(**{"rule": "t", "description": "floor", "status": status, "light": light,
                          "evidence": evidence, **fields})


FLOOR = {**THRESHOLD, "description": "floor", "group": {"language": "*"}}


def test_threshold_verdicts_record_every_field() -> None:
    # amh is too small to decide and comes first: fra must still be judged after it. fra's
    # point passes but its interval reaches below 50%: a pass, amber.
    found = results([metric("acc", 1.0, 2, 0.16, 1.0, language="amh"),
                     metric("acc", 0.75, 100, 0.375, 0.875, language="fra")])
    where = {"area": "multilingual", "suite": "s/x", "metric": "acc"}
    assert gate(FLOOR, found).verdicts == [
        verdict(INSUFFICIENT, "grey", "s/x acc = 100.0%: language=amh has n=2; the rule needs "
                "n >= 30; insufficient evidence, not passed", group={"language": "amh"},
                **where),
        verdict("pass", "amber", "s/x acc (language=fra) = 75.0%, 95% CI 37.5% to 87.5%, "
                "n=100; rule: >= 50.0% on the point estimate", group={"language": "fra"},
                **where)]
    # A named group matches only itself; the interval inside the threshold is green.
    only_fra = gate({**FLOOR, "group": {"language": "fra"}, "threshold": 0.25}, found)
    assert [(v.group, v.light) for v in only_fra.verdicts] == [({"language": "fra"}, "green")]


def test_rules_that_find_nothing_say_where_they_looked() -> None:
    found = results([metric("acc", 0.75, 100, 0.5, 0.875)])
    by_family = gate({**THRESHOLD, "suite": "*", "family": "bias"}, found)
    assert by_family.verdicts == [RuleVerdict(
        rule="t", description="", status="not evaluated", light="grey", area="bias",
        evidence="no value of metric 'acc' (overall) in suites matching '*' of family bias in "
                 "this run", metric="acc")]
    by_suite = gate({**THRESHOLD, "suite": "misuse/a/*"}, found).verdicts[0]
    assert by_suite.evidence == ("no value of metric 'acc' (overall) in suites matching "
                                 "'misuse/a/*' in this run")
    assert by_suite.area == "misuse"  # a rule's area is its suite pattern's first part
    assert gate({**THRESHOLD, "suite": "nowhere/*"}, found).verdicts[0].area == ""
    gap = gate({**GAP, "suite": "*"}, found).verdicts
    assert [(v.status, v.evidence) for v in gap] == [(
        "not evaluated", "no metric 'acc' grouped by language with the reference 'eng' and "
                         "another language in suites matching '*' in this run")]


def test_a_rule_reads_only_its_suites() -> None:
    found = results([metric("acc", 0.75, 100, 0.625, 0.875)])
    found["suites"]["t/y"] = found["suites"]["s/x"]
    assert [v.suite for v in gate(THRESHOLD, found).verdicts] == ["s/x"]


@pytest.mark.parametrize(("op", "evidence", "status"), [
    # op > under interval evidence: the lower end (exactly 0.5) does not exceed 0.5
    (">", "interval", "fail"),
    (">", "point", "pass"),
    ("<", "interval", "fail"),  # the upper end 0.7 is not below 0.7
])
def test_strict_operators_judge_the_worst_end(op: str, evidence: str, status: str) -> None:
    threshold = 0.5 if op == ">" else 0.7
    found = results([metric("acc", 0.625, 100, 0.5, 0.7)])
    rule = {**THRESHOLD, "op": op, "threshold": threshold, "evidence": evidence}
    assert [v.status for v in gate(rule, found).verdicts] == [status]


def test_gap_exactly_at_max_gap_passes_on_point_and_interval() -> None:
    # Binary fractions, so the boundary is exact: a gap of 0.25; its bound 0.25 + hypot(0,
    # 0.25) = 0.5 (eng's interval has no room above its value).
    found = results([metric("acc", 0.75, 100, 0.5, 0.75, language="eng"),
                     metric("acc", 0.5, 100, 0.25, 0.75, language="fra")])
    on_point = gate({**GAP, "max_gap": 0.25}, found).verdicts
    on_interval = gate({**GAP, "max_gap": 0.5, "evidence": "interval"}, found).verdicts
    assert [(v.status, v.light) for v in on_point] == [("pass", "amber")]
    assert on_interval == [RuleVerdict(
        rule="g", description="", status="pass", light="green", area="multilingual",
        suite="s/x", metric="acc", group={"language": "fra"},
        evidence="s/x acc: language=fra 50.0% vs eng 75.0%: 25.0 points behind eng (upper 95% "
                 "bound of the shortfall +50.0 points, from the two 95% intervals); rule: at "
                 "most 50.0 points behind")]


def test_gap_for_lower_is_better_uses_the_right_interval_ends() -> None:
    # Lower is better: fra (0.5) is 0.25 behind eng (0.25). The bound adds fra's room above
    # its value (0.125) and eng's room below (0.125): 0.25 + hypot(0.125, 0.125) = 0.4268;
    # eng's wide upper side (0.5) plays no part.
    eng = {"value": 0.25, "ci_low": 0.125, "ci_high": 0.75}
    fra = {"value": 0.5, "ci_low": 0.375, "ci_high": 0.625}
    assert gap_upper_bound(eng, fra, False) == pytest.approx(0.25 + math.hypot(0.125, 0.125))
    found = results([metric("acc", 0.25, 100, 0.125, 0.75, language="eng"),
                     metric("acc", 0.5, 100, 0.375, 0.625, language="fra")], better="lower")
    assert [v.status for v in gate({**GAP, "max_gap": 0.3}, found).verdicts] == ["pass"]
    assert [v.status for v in gate({**GAP, "max_gap": 0.4, "evidence": "interval"},
                                   found).verdicts] == ["fail"]
    assert "25.0 points behind eng" in gate(GAP, found).verdicts[0].evidence


def test_gap_judges_every_language_and_suite_after_one_it_cannot() -> None:
    # Suite s/a has a target metric, s/b no reference language, s/x an insufficient language
    # (amh) before a sufficient one (fra): every decidable value is still judged.
    found = results([metric("acc", 0.75, 100, 0.625, 0.875, language="eng"),
                     metric("acc", 0.5, 2, 0.25, 0.75, language="amh"),
                     metric("acc", 0.75, 100, 0.625, 0.875, language="fra")])
    target = results([metric("acc", 0.75, 100, 0.625, 0.875, language="eng"),
                      metric("acc", 0.5, 100, 0.375, 0.625, language="fra")], better="target")
    no_reference = results([metric("acc", 0.5, 100, 0.375, 0.625, language="fra")])
    found["suites"] = {"s/a": target["suites"]["s/x"], "s/b": no_reference["suites"]["s/x"],
                       **found["suites"]}
    verdicts = gate({**GAP, "description": "parity"}, found).verdicts
    assert [(v.suite, v.status, v.group) for v in verdicts] == [
        ("s/a", "not evaluated", {}), ("s/x", INSUFFICIENT, {"language": "amh"}),
        ("s/x", "pass", {"language": "fra"})]
    assert verdicts[0].evidence == ("s/a acc has a target, not a direction; a gap to eng is "
                                    "undefined")
    assert verdicts[1] == RuleVerdict(
        rule="g", description="parity", status=INSUFFICIENT, light="grey", area="multilingual",
        suite="s/x", metric="acc", group={"language": "amh"},
        evidence="s/x acc: language=amh 50.0% vs eng 75.0%: 25.0 points behind eng; "
                 "language=amh has n=2; the rule needs n >= 30; insufficient evidence, not "
                 "passed")


def test_gate_result_names_its_policy() -> None:
    policy = Policy.model_validate({"name": "p", "rules": [THRESHOLD]})
    found = results([metric("acc", 0.75, 100, 0.625, 0.875)])
    assert (evaluate_policy(policy, found).policy, evaluate_policy(policy, found).policy_path) \
        == ("p", "")
    assert evaluate_policy(policy, found, "x.yaml").policy_path == "x.yaml"


PARITY = {"id": "p", "kind": "language_parity", "suite": "s/*", "metric": "refusal",
          "reference": "eng", "max_gap": 0.10, "min_n": 20}


@pytest.mark.parametrize(("rule", "gap", "status"), [
    # 5 points below English, interval to -15: passes on the point, fails on the interval
    ({}, (-0.05, 24, -0.15, 0.05), "pass"),
    ({"evidence": "interval"}, (-0.05, 24, -0.15, 0.05), "fail"),
    # exactly max_gap below passes (boundary); just beyond fails
    ({}, (-0.10, 24, -0.2, 0.0), "pass"),
    ({}, (-0.11, 24, -0.2, 0.0), "fail"),
    # ahead of English passes
    ({"evidence": "interval"}, (0.2, 24, 0.05, 0.3), "pass"),
    # n=24 under the default min_n of 30: insufficient, never a pass
    ({"min_n": POLICY_MIN_N}, (0.0, 24, -0.1, 0.1), INSUFFICIENT),
    # no interval: insufficient
    ({}, (0.0, 24, None, None), INSUFFICIENT),
])
def test_parity_rule_table(rule: dict, gap: tuple, status: str) -> None:
    found = results([metric("refusal_gap_to_eng", *gap, language="swh"),
                     metric("refusal_worst_gap_to_eng", -0.5, 24, -0.7, -0.3, language="swh")])
    verdicts = gate({**PARITY, **rule}, found).verdicts
    assert [v.status for v in verdicts] == [status]  # the worst-gap entry is not judged twice
    assert verdicts[0].group == {"language": "swh"}


def test_parity_rule_without_its_gap_metric_is_not_evaluated_and_blocks() -> None:
    found = results([metric("refusal", 0.9, 100, 0.8, 0.95, language="eng")])
    result = gate(PARITY, found)
    assert [v.status for v in result.verdicts] == ["not evaluated"]
    assert "refusal_gap_to_eng" in result.verdicts[0].evidence and not result.passed


def test_parity_rule_refuses_threshold_fields() -> None:
    with pytest.raises(ValueError, match="language_parity rule takes `max_gap`"):
        Policy.model_validate({"name": "p", "rules": [{**PARITY, "op": ">="}]})


GAP_RULE = {"id": "g", "kind": "language_gap", "suite": "s/*", "metric": "acc", "max_gap": 0.1}


@pytest.mark.parametrize(("rule", "entries"), [
    (THRESHOLD, [metric("acc", 0.6, 100, 0.5, 0.7)]),                    # judged
    (THRESHOLD, [metric("acc", 0.6, 5, 0.3, 0.9)]),                      # too few items
    ({**THRESHOLD, "metric": "missing"}, [metric("acc", 0.6, 100, 0.5, 0.7)]),  # not found
    (GAP_RULE, [metric("acc", 0.6, 100, 0.5, 0.7, language="eng"),
           metric("acc", 0.2, 100, 0.1, 0.3, language="fra")]),         # judged: fails
    (GAP_RULE, [metric("acc", 0.6, 100, 0.5, 0.7, language="eng"),
           metric("acc", 0.2, 5, 0.0, 0.6, language="fra")]),           # too few items
])
def test_a_warning_rule_stays_a_warning_in_every_verdict(rule: dict[str, Any],
                                                         entries: list[dict[str, Any]]) -> None:
    """severity: warn reaches every kind of verdict, so none of them fails the gate."""
    result = gate({**rule, "severity": "warn"}, results(entries))
    assert [v.severity for v in result.verdicts] == ["warn"] and result.passed


def test_a_parity_rule_with_no_allowed_gap_needs_a_gap_of_at_least_zero() -> None:
    rule = {"id": "p", "kind": "language_parity", "suite": "s/*", "metric": "refusal",
            "max_gap": 0.0}
    behind = results([metric("refusal_gap_to_eng", -0.5, 100, -0.6, -0.4, language="fra")])
    even = results([metric("refusal_gap_to_eng", 0.0, 100, -0.05, 0.05, language="fra")])
    assert [v.status for v in gate(rule, behind).verdicts] == ["fail"]
    assert [v.status for v in gate(rule, even).verdicts] == ["pass"]


def test_a_gap_rule_goes_on_to_the_next_metric_after_one_it_cannot_judge() -> None:
    """Metrics matching 'acc*' in name order: acc_a has no reference language, acc_b has a
    target instead of a direction, acc_c is judged. Each is reported; none stops the rest."""
    found = {"suites": {"s/x": {"family": "multilingual", "metric_info": {
        "acc_a": {"unit": "proportion", "better": "higher"},
        "acc_b": {"unit": "proportion", "better": "target"},
        "acc_c": {"unit": "proportion", "better": "higher"}}, "metrics": [
        metric("acc_a", 0.5, 100, 0.4, 0.6, language="fra"),
        metric("acc_b", 0.5, 100, 0.4, 0.6, language="eng"),
        metric("acc_b", 0.5, 100, 0.4, 0.6, language="fra"),
        metric("acc_c", 0.5, 100, 0.45, 0.55, language="eng"),
        metric("acc_c", 0.5, 100, 0.45, 0.55, language="fra")]}}}
    verdicts = gate({**GAP_RULE, "metric": "acc*"}, found).verdicts
    assert [(v.status, v.metric) for v in verdicts] == [("not evaluated", "acc*"),
                                                         ("pass", "acc_c")]
    assert "acc_b has a target" in verdicts[0].evidence


def test_points_for_shares_and_plain_numbers_for_other_units() -> None:
    from audit.policy import _points, _signed_points

    assert (_points(0.25, "proportion"), _signed_points(0.25, "proportion")) == (
        "25.0 points", "+25.0 points")
    assert (_points(0.25, "ratio"), _signed_points(0.25, "ratio")) == ("0.25", "+0.25")


@pytest.mark.parametrize(("low", "high"), [(0.4, None), (None, 0.6)])
def test_half_an_interval_is_no_interval(low: float | None, high: float | None) -> None:
    verdicts = gate(THRESHOLD, results([metric("acc", 0.5, 100, low, high)])).verdicts
    assert [v.status for v in verdicts] == ["insufficient evidence"]
    assert "has no 95% interval" in verdicts[0].evidence


def test_a_grouped_rule_with_no_value_names_its_group() -> None:
    rule = {**THRESHOLD, "group": {"language": "xho"}}
    verdicts = gate(rule, results([metric("acc", 0.6, 100, 0.5, 0.7, language="eng")])).verdicts
    assert [v.status for v in verdicts] == ["not evaluated"]
    assert "no value of metric 'acc' (language=xho)" in verdicts[0].evidence
