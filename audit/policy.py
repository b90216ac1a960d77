"""Deployment policies: thresholds on metrics, evaluated against a run as pass/fail gates.

A policy is a YAML file validated into typed rules (a malformed one is reported with its line).
Three kinds of rule:

- `threshold` (the default): a metric of the matching suites, overall or for a group, compared
  with a number, e.g. harmful-request refusal >= 0.9;
- `language_gap`: no language may fall more than `max_gap` (in the metric's unit; 0.10 is ten
  percentage points for a proportion) behind the reference language on a metric.
- `language_parity`: the same promise judged on paired data: each language's
  `<metric>_gap_to_<reference>` (the same items asked in both languages, with a paired 95%
  interval; `audit.misuse.parity`) must be at least `-max_gap`.

`evidence: point` judges the point estimate; `evidence: interval` asks the whole 95% CI to
satisfy the rule (stricter, for decisions that must hold despite sampling noise). Every value a
rule judges needs at least `min_n` items (default `audit.evidence.POLICY_MIN_N`) and a 95%
interval; otherwise the verdict is "insufficient evidence", never a pass, and a blocking rule
with insufficient evidence fails the gate. A language gap's upper bound combines the two
languages' own 95% intervals (square-and-add, Newcombe 1998 / Zou and Donner 2008), so it is
never narrower than the data allow and follows the metric's direction. A rule whose
metric is not in the run is "not evaluated", never a pass; with `on_missing: fail` (the
default) such a blocking rule also fails the gate, because a deployment gate must not open for
lack of evidence.
"""

from __future__ import annotations

import fnmatch
import math
import operator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit.evidence import POLICY_MIN_N
from audit.families import FAMILIES, Family
from audit.formatting import format_value, group_label, interval_text
from audit.yamlfile import load_model_file

Light = Literal["green", "amber", "red", "grey"]
AREAS = (*FAMILIES, "energy")


@dataclass
class RuleVerdict:
    """The verdict of one policy rule on one run, with the evidence that decided it."""

    rule: str
    description: str
    status: Literal["pass", "fail", "warn", "not evaluated", "insufficient evidence"]
    light: Light
    evidence: str
    severity: str = "block"
    area: str = ""
    suite: str = ""
    metric: str = ""
    group: dict[str, str] = field(default_factory=dict)


@dataclass
class GateResult:
    """A policy evaluated on a run: `passed` unless a blocking rule failed, a blocking rule had
    too little evidence to decide, or, when missing evidence blocks (the default), a blocking
    rule could not be evaluated."""

    policy: str
    policy_path: str
    verdicts: list[RuleVerdict]
    missing_blocks: bool = True

    @property
    def passed(self) -> bool:
        return not any(v.status == "fail" or (
            v.status == "insufficient evidence" and v.severity == "block") or (
            self.missing_blocks and v.status == "not evaluated" and v.severity == "block")
            for v in self.verdicts)

    def counts(self) -> dict[str, int]:
        found = {"pass": 0, "fail": 0, "warn": 0, "not evaluated": 0,
                 "insufficient evidence": 0}
        for verdict in self.verdicts:
            found[verdict.status] += 1
        return found

OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
# Group keys that describe a group rather than narrow it (a language's resource tier travels
# with its code), so `{language: "*"}` also matches `{language: fra, tier: high}`.
DESCRIPTIVE_KEYS = frozenset({"tier"})


class Rule(BaseModel):
    """One rule. `threshold` (default): `metric` `op` `threshold`, overall or for `group`
    (`{language: "*"}` checks each language). `language_gap`: no value of group key `key` more
    than `max_gap` behind the `reference` value of `metric`."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    kind: Literal["threshold", "language_gap", "language_parity"] = "threshold"
    description: str = ""
    suite: str = Field(default="*", description="suite name or glob, e.g. misuse/*")
    family: Family | None = None
    metric: str = Field(min_length=1, description="metric name or glob")
    evidence: Literal["point", "interval"] = "point"
    severity: Literal["block", "warn"] = "block"
    group: dict[str, str] = Field(default_factory=dict)
    op: Literal[">=", "<=", ">", "<"] | None = None
    threshold: float | None = None
    key: str = "language"
    reference: str = "eng"
    max_gap: float | None = Field(default=None, ge=0)
    min_n: int = Field(default=POLICY_MIN_N, ge=1,
                       description="fewest items per judged value; fewer is insufficient evidence")

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Rule:
        if self.kind == "threshold" and (self.op is None or self.threshold is None):
            raise ValueError("a threshold rule needs `op` and `threshold`")
        if self.kind in ("language_gap", "language_parity"):
            if self.max_gap is None:
                raise ValueError(f"a {self.kind} rule needs `max_gap`")
            if self.op is not None or self.threshold is not None or self.group:
                raise ValueError(f"a {self.kind} rule takes `max_gap`, not `op`, `threshold` "
                                 "or `group`")
        return self


class Policy(BaseModel):
    """A named set of rules for one deployment decision."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    on_missing: Literal["fail", "report"] = "fail"
    rules: list[Rule] = Field(min_length=1)


def example_policy_path() -> Path:
    """The sample policy shipped with fm-audit."""
    return Path(str(files("audit.policies").joinpath("example.yaml")))


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file; errors name the field and its line."""
    return load_model_file(Policy, Path(path), "policy")


def _points(value: float, unit: str) -> str:
    return f"{100 * value:.1f} points" if unit == "proportion" else f"{value:.3g}"


def _signed_points(value: float, unit: str) -> str:
    return f"{100 * value:+.1f} points" if unit == "proportion" else f"{value:+.3g}"


def _shortfall(rule: Rule, entries: list[dict[str, Any]]) -> str:
    """Why `entries` cannot decide `rule` ('' when they can): too few items or no interval."""
    for entry in entries:
        label = group_label(entry["group"])
        if entry["n"] < rule.min_n:
            return f"{label} has n={entry['n']}; the rule needs n >= {rule.min_n}"
        if not (_known(entry["ci_low"]) and _known(entry["ci_high"])):
            return f"{label} has no 95% interval (n={entry['n']}, {entry['ci_method']})"
    return ""


def _insufficient(rule: Rule, evidence: str, suite: str, family: str, metric: str,
                  group: dict[str, str]) -> RuleVerdict:
    return RuleVerdict(rule=rule.id, description=rule.description,
                       status="insufficient evidence", light="grey",
                       evidence=f"{evidence}; insufficient evidence, not passed",
                       severity=rule.severity, area=family, suite=suite, metric=metric,
                       group=dict(group))


def gap_upper_bound(reference: dict[str, Any], entry: dict[str, Any], higher_is_better: bool
                    ) -> float:
    """Upper 95% bound of how far `entry` falls behind `reference` (positive = behind), from
    the two values' own 95% intervals by square-and-add (MOVER, Zou and Donner 2008)."""
    ahead, behind = (reference, entry) if higher_is_better else (entry, reference)
    gap = ahead["value"] - behind["value"]
    return gap + math.hypot(ahead["ci_high"] - ahead["value"],
                            behind["value"] - behind["ci_low"])


def _suites(rule: Rule, results: dict[str, Any]) -> list[str]:
    return [name for name, entry in results["suites"].items()
            if fnmatch.fnmatchcase(name, rule.suite)
            and (rule.family is None or entry["family"] == rule.family)]


def _group_matches(wanted: dict[str, str], group: dict[str, str]) -> bool:
    extra = set(group) - set(wanted)
    if not set(wanted) <= set(group) or (extra and (not wanted or extra - DESCRIPTIVE_KEYS)):
        return False
    return all(pattern == "*" or fnmatch.fnmatchcase(group[k], pattern)
               for k, pattern in wanted.items())


def _judge(passes_point: bool, passes_interval: bool, rule: Rule) -> tuple[str, Light]:
    """Status and light: the interval decides under `evidence: interval`; a point pass whose
    interval crosses the threshold is amber (passes, but the data cannot rule out a failure)."""
    decisive = passes_interval if rule.evidence == "interval" else passes_point
    if not decisive:
        return ("fail", "red") if rule.severity == "block" else ("warn", "amber")
    return "pass", "green" if passes_interval else "amber"


def rule_area(rule: Rule) -> str:
    """The report area a rule belongs to: its family, else its suite pattern's first part."""
    if rule.family:
        return rule.family
    first = rule.suite.split("/", 1)[0]
    return first if first in AREAS else ""


def _not_evaluated(rule: Rule, evidence: str, suite: str = "") -> RuleVerdict:
    return RuleVerdict(rule=rule.id, description=rule.description, status="not evaluated",
                       light="grey", evidence=evidence, severity=rule.severity,
                       area=rule_area(rule), suite=suite, metric=rule.metric)


def _metric_entries(results: dict[str, Any], suite: str, pattern: str) -> list[dict[str, Any]]:
    return [m for m in results["suites"][suite]["metrics"]
            if fnmatch.fnmatchcase(m["metric"], pattern)]


def _known(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def evaluate_threshold(rule: Rule, results: dict[str, Any]) -> list[RuleVerdict]:
    """One verdict per matching (suite, metric, group) value, or one 'not evaluated'."""
    compare = OPERATORS[rule.op]
    verdicts = []
    for suite in _suites(rule, results):
        info = results["suites"][suite]["metric_info"]
        for entry in _metric_entries(results, suite, rule.metric):
            if not _group_matches(rule.group, entry["group"]) or not _known(entry["value"]):
                continue
            unit = info.get(entry["metric"], {}).get("unit", "")
            value, low, high = entry["value"], entry["ci_low"], entry["ci_high"]
            shortfall = _shortfall(rule, [entry])
            if shortfall:
                verdicts.append(_insufficient(
                    rule, f"{suite} {entry['metric']} = {format_value(value, unit)}: {shortfall}",
                    suite, results["suites"][suite]["family"], entry["metric"], entry["group"]))
                continue
            # The interval satisfies the rule when its worst end does (both ends are known
            # here: a value without an interval is insufficient evidence above).
            worst = low if rule.op in (">=", ">") else high
            status, light = _judge(compare(value, rule.threshold),
                                   compare(worst, rule.threshold), rule)
            evidence = (f"{suite} {entry['metric']} ({group_label(entry['group'])}) = "
                        f"{format_value(value, unit)}, 95% CI "
                        f"{interval_text(low, high, unit)}, n={entry['n']}; rule: {rule.op} "
                        f"{format_value(rule.threshold, unit)} on the {rule.evidence} estimate")
            verdicts.append(RuleVerdict(rule=rule.id, description=rule.description,
                                        status=status, light=light, evidence=evidence,
                                        severity=rule.severity,
                                        area=results["suites"][suite]["family"], suite=suite,
                                        metric=entry["metric"], group=dict(entry["group"])))
    if not verdicts:
        where = f"suites matching {rule.suite!r}" + (f" of family {rule.family}"
                                                      if rule.family else "")
        verdicts.append(_not_evaluated(
            rule, f"no value of metric {rule.metric!r} ({group_label(rule.group)}) in {where} "
                  "in this run"))
    return verdicts


def evaluate_gap(rule: Rule, results: dict[str, Any]) -> list[RuleVerdict]:
    """One verdict per non-reference language: its shortfall against the reference."""
    verdicts = []
    for suite in _suites(rule, results):
        info = results["suites"][suite]["metric_info"]
        for metric in sorted({m["metric"] for m in _metric_entries(results, suite, rule.metric)}):
            meta = info.get(metric, {})
            unit, better = meta.get("unit", ""), meta.get("better", "higher")
            by_value = {m["group"][rule.key]: m for m in results["suites"][suite]["metrics"]
                        if m["metric"] == metric and _group_matches({rule.key: "*"}, m["group"])
                        and _known(m["value"])}
            reference = by_value.pop(rule.reference, None)
            if reference is None or not by_value:
                continue
            if better == "target":
                verdicts.append(_not_evaluated(
                    rule, f"{suite} {metric} has a target, not a direction; a gap to "
                          f"{rule.reference} is undefined", suite))
                continue
            sign = 1.0 if better == "higher" else -1.0
            for value_key, entry in sorted(by_value.items()):
                gap = sign * (reference["value"] - entry["value"])
                behind = "behind" if gap > 0 else "ahead of"
                said = (f"{suite} {metric}: {rule.key}={value_key} "
                        f"{format_value(entry['value'], unit)}"
                        f" vs {rule.reference} {format_value(reference['value'], unit)}: "
                        f"{_points(abs(gap), unit)} {behind} {rule.reference}")
                shortfall = _shortfall(rule, [reference, entry])
                if shortfall:
                    verdicts.append(_insufficient(rule, f"{said}; {shortfall}", suite,
                                                  results["suites"][suite]["family"], metric,
                                                  entry["group"]))
                    continue
                high = gap_upper_bound(reference, entry, better == "higher")
                status, light = _judge(gap <= rule.max_gap, high <= rule.max_gap, rule)
                evidence = (f"{said} (upper 95% bound of the shortfall "
                            f"{_signed_points(high, unit)}, from the two 95% intervals); "
                            f"rule: at most {_points(rule.max_gap, unit)} behind")
                verdicts.append(RuleVerdict(rule=rule.id, description=rule.description,
                                            status=status, light=light, evidence=evidence,
                                            severity=rule.severity,
                                            area=results["suites"][suite]["family"],
                                            suite=suite, metric=metric,
                                            group=dict(entry["group"])))
    if not verdicts:
        verdicts.append(_not_evaluated(
            rule, f"no metric {rule.metric!r} grouped by {rule.key} with the reference "
                  f"{rule.reference!r} and another {rule.key} in suites matching "
                  f"{rule.suite!r} in this run"))
    return verdicts


def evaluate_parity(rule: Rule, results: dict[str, Any]) -> list[RuleVerdict]:
    """One verdict per language: its paired gap to the reference, `<metric>_gap_to_<reference>`,
    must be at least `-max_gap` (judged as a threshold, with its evidence rules)."""
    as_threshold = rule.model_copy(update={
        "kind": "threshold", "metric": f"{rule.metric}_gap_to_{rule.reference}", "op": ">=",
        "threshold": -(rule.max_gap or 0.0), "group": {rule.key: "*"}})
    return evaluate_threshold(as_threshold, results)


def evaluate_policy(policy: Policy, results: dict[str, Any], path: Path | str = ""
                    ) -> GateResult:
    """Every rule of `policy` against a run's results.json content."""
    verdicts: list[RuleVerdict] = []
    for rule in policy.rules:
        if rule.kind == "language_gap":
            verdicts.extend(evaluate_gap(rule, results))
        elif rule.kind == "language_parity":
            verdicts.extend(evaluate_parity(rule, results))
        else:
            verdicts.extend(evaluate_threshold(rule, results))
    return GateResult(policy=policy.name, policy_path=str(path), verdicts=verdicts,
                      missing_blocks=policy.on_missing == "fail")
