"""Compare runs on the items they share: paired deltas, 95% CIs and corrected significance.

Two runs of different models (or a fine-tune and its base) answered the same items, so the
honest comparison pairs them: for every metric that is a mean of per-item scores, the
difference is the mean of per-item differences over the items both runs scored in the group,
with a 95% CI (for 0/1 scores the paired MOVER interval of two shares,
`audit.stats.paired_difference`, given even when every pair moved the same way; otherwise a
Student-t interval over the differences) and a paired sign-flip permutation test (exact up
to `EXACT_FLIPS_UP_TO` pairs, seeded Monte Carlo beyond).
Pairing removes the spread between items, so a real difference shows up with far fewer items
than two separate intervals need.

A metric that is not a per-item mean (a ratio, a bias score) is bootstrapped over the shared
items, resampling the same positions in both runs, when its suite can recompute it from samples
(`Suite.statistic`): expanded-percentile CI and a bootstrap p-value, from
`audit.stats.BOOTSTRAP_MIN_N` items on. Otherwise the difference of the two reported values is
given unpaired, and the method says how: for two shares of 0/1 scores (both reported with a
Clopper-Pearson interval) Newcombe's hybrid score interval, which stays within [-1, 1], and a
pooled two-proportion z-test; for other values a normal interval and p-value from their
standard errors.
Items are matched by (suite, sample id); each delta is run B minus the baseline run A, for
every group the runs report (per task, subject, language, ...); `n_pairs` counts the paired
items of that group.

A difference is significant when it rests on at least `MIN_ITEMS_FOR_SIGNIFICANCE` items and
its p-value, adjusted by Holm's step-down method over every comparison shown together that
has that many items (all pairs of runs, suites, metrics and groups), is below 0.05.
"""

from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from audit.errors import RunFolderError
from audit.formatting import group_label
from audit.runfolder import RunFolder
from audit.stats import (
    BOOTSTRAP_ITERATIONS,
    BOOTSTRAP_MIN_N,
    BOOTSTRAP_SEED,
    CLOPPER_PEARSON,
    Z95,
    bootstrap_interval,
    expanded_tail,
    is_binary,
    newcombe_interval,
    paired_difference,
    pooled_z_p_value,
    student_t_interval,
)

log = logging.getLogger(__name__)

PAIRED_MEAN = "paired: student-t CI of the per-item difference, sign-flip permutation test"
PAIRED_SHARES = ("paired 0/1 scores: MOVER CI of the difference of two shares (Newcombe 1998 "
                 "method 11, Clopper-Pearson limits), sign-flip permutation test")
PAIRED_STATISTIC = "paired bootstrap of the suite's statistic over shared items"
UNPAIRED = "unpaired: difference of reported values, normal CI from their standard errors"
UNPAIRED_SHARES = ("unpaired: difference of two shares, Newcombe's hybrid score CI (Wilson "
                   "intervals), pooled two-proportion z-test")
ABSENT = "not compared: metric reported by only one run"
NO_VALUE_A = "not compared: run A (the baseline) reports no value"
NO_VALUE_B = "not compared: run B reports no value"
NO_VALUE = "not compared: neither run reports a value"

# Fewest items (pairs, or items per run when unpaired) for a difference to be called
# significant. With 5 or fewer, even a unanimous direction fails a two-sided sign test at 5%
# (2 x 0.5^5 = 0.0625), while a bootstrap over so few items can collapse to an interval that
# excludes zero (two pairs that both moved by 1 give the interval [1, 1]).
MIN_ITEMS_FOR_SIGNIFICANCE = 6
SIGNIFICANCE_LEVEL = 0.05
MULTIPLICITY = "Holm"
SIGNIFICANCE_RULE = (f"'significant' means at least {MIN_ITEMS_FOR_SIGNIFICANCE} paired items "
                     "in the group and a p-value below 0.05 after Holm's correction for the "
                     "number of comparisons shown together")
EXACT_FLIPS_UP_TO = 16
PERMUTATION_DRAWS = 20000

SampleIndex = dict[str, dict[str, dict[str, Any]]]
Statistic = Callable[[str, dict[str, str], list[dict[str, Any]]], float | None]


@dataclass(frozen=True)
class MetricDelta:
    """One metric, one group: the baseline's value, the other run's value and their difference.

    `delta` is value_b - value_a; `p_value` tests it against no difference and `p_adjusted` is
    that p-value after Holm's correction over the comparisons shown together; `significant` is
    True when `p_adjusted` < 0.05 and the difference rests on at least
    `MIN_ITEMS_FOR_SIGNIFICANCE` items (`too_few_items` otherwise).
    `improved` says whether the change goes the metric's better way (None when the metric has a
    target rather than a direction, or when nothing was compared).
    """

    suite: str
    metric: str
    group: dict[str, str]
    run_a: str
    run_b: str
    value_a: float | None
    value_b: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    n_pairs: int
    method: str
    label: str = ""
    unit: str = "proportion"
    better: str = "higher"
    family: str = ""
    n_a: int = 0
    n_b: int = 0
    target: float | None = None
    notes: list[str] = field(default_factory=list)
    p_value: float | None = None
    p_adjusted: float | None = None

    @property
    def group_text(self) -> str:
        return group_label(self.group)

    @property
    def items(self) -> int:
        """How many items the difference rests on: the pairs, or the smaller run's n when the
        runs were compared unpaired."""
        return self.n_pairs if self.n_pairs else min(self.n_a, self.n_b)

    @property
    def too_few_items(self) -> bool:
        return self.delta is not None and self.items < MIN_ITEMS_FOR_SIGNIFICANCE

    @property
    def significant(self) -> bool:
        if self.p_adjusted is None or self.too_few_items:
            return False
        return self.p_adjusted < SIGNIFICANCE_LEVEL

    @property
    def improved(self) -> bool | None:
        if self.delta is None or self.delta == 0:
            return None
        if self.better == "higher":
            return self.delta > 0
        if self.better == "lower":
            return self.delta < 0
        if self.target is not None and self.value_a is not None and self.value_b is not None:
            return abs(self.value_b - self.target) < abs(self.value_a - self.target)
        return None

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record.update(group_text=self.group_text, significant=self.significant,
                      too_few_items=self.too_few_items, improved=self.improved)
        return record


def index_samples(run: RunFolder) -> SampleIndex:
    """Samples of a run by suite, then by sample id."""
    index: SampleIndex = {}
    for record in run.iter_samples():
        index.setdefault(record["suite"], {})[str(record["id"])] = record
    return index


def in_group(record: dict[str, Any], group: dict[str, str]) -> bool:
    """True when the sample belongs to `group` (every key matches its group labels)."""
    labels = record.get("group") or {}
    return all(str(labels.get(key)) == value for key, value in group.items())


def sign_flip_p_value(differences: np.ndarray, seed: int = BOOTSTRAP_SEED) -> float:
    """Two-sided p-value of a mean paired difference against zero: the share of sign flips of
    the differences whose mean is at least as far from zero (exact up to `EXACT_FLIPS_UP_TO`
    pairs, else `PERMUTATION_DRAWS` seeded random flips, counting the observed one)."""
    n = len(differences)
    observed = abs(differences.mean())
    if n <= EXACT_FLIPS_UP_TO:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
        return float(np.mean(np.abs(signs @ differences) / n >= observed - 1e-12))
    rng = np.random.default_rng(seed)
    signs = rng.choice((-1.0, 1.0), (PERMUTATION_DRAWS, n))
    extreme = np.sum(np.abs(signs @ differences) / n >= observed - 1e-12)
    return float((extreme + 1) / (PERMUTATION_DRAWS + 1))


def paired_mean_difference(a: np.ndarray, b: np.ndarray
                           ) -> tuple[float, float | None, float | None, float, str]:
    """Mean of b - a over pairs, its 95% CI, the sign-flip permutation p-value and the method.

    When both runs' scores are 0/1 (a share), the CI is the paired MOVER interval of two
    shares: it stays inside [-1, 1] and exists even when every pair moved the same way (24 of
    24 requests refused after, none before), where a t interval has no spread to work from.
    Other scores get the Student-t interval of the differences (None when they have no
    spread)."""
    differences = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    p_value = sign_flip_p_value(differences)
    if is_binary(a) and is_binary(b):
        shares = paired_difference(list(zip(b, a, strict=True)))
        return shares.value, shares.ci_low, shares.ci_high, p_value, PAIRED_SHARES
    interval = student_t_interval(differences)
    low, high = interval if interval is not None else (None, None)
    return float(differences.mean()), low, high, p_value, PAIRED_MEAN


def paired_statistic_difference(statistic: Callable[[list[dict[str, Any]]], float | None],
                                a: list[dict[str, Any]], b: list[dict[str, Any]],
                                iterations: int = BOOTSTRAP_ITERATIONS,
                                seed: int = BOOTSTRAP_SEED
                                ) -> tuple[float, float, float | None, float | None,
                                           float | None] | None:
    """A derived statistic on paired item lists: (value_a, value_b, CI low, CI high, p-value)
    of b - a.

    Each bootstrap draw resamples item positions once and applies them to both runs, so the
    pairing is kept; the interval is the expanded percentile one, the p-value twice the smaller
    share of draws on either side of zero. Draws where the statistic is undefined are dropped;
    no interval below `BOOTSTRAP_MIN_N` items or when it would have zero width; None when the
    statistic is undefined on the full lists.
    """
    value_a, value_b = statistic(a), statistic(b)
    if value_a is None or value_b is None:
        return None
    n = len(a)
    if n < BOOTSTRAP_MIN_N:
        return value_a, value_b, None, None, None
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(iterations):
        positions = rng.integers(0, n, n)
        draw_a = statistic([a[i] for i in positions])
        draw_b = statistic([b[i] for i in positions])
        if draw_a is not None and draw_b is not None:
            draws.append(draw_b - draw_a)
    values = np.asarray(draws)
    interval = bootstrap_interval(values, expanded_tail(n))
    if interval is None:
        return value_a, value_b, None, None, None
    side = min(np.sum(values <= 0), np.sum(values >= 0))
    p_value = min(1.0, 2 * (side + 1) / (len(values) + 1))
    return value_a, value_b, interval[0], interval[1], p_value


def holm(deltas: list[MetricDelta]) -> list[MetricDelta]:
    """The deltas with `p_adjusted` set by Holm's step-down correction over every delta that
    has a p-value and enough items to be called significant (the family of comparisons shown
    together); the others keep `p_adjusted` None."""
    tested = sorted((i for i, d in enumerate(deltas)
                     if d.p_value is not None and not d.too_few_items),
                    key=lambda i: deltas[i].p_value)
    adjusted = list(deltas)
    running = 0.0
    for rank, index in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * deltas[index].p_value))
        adjusted[index] = replace(deltas[index], p_adjusted=running)
    return adjusted


def same_runs(runs: list[RunFolder]) -> list[str]:
    """Warnings for runs compared with themselves (the same folder, or identical results)."""
    seen: dict[str, str] = {}
    warnings = []
    for run in runs:
        key = run.sha256("results.json") if run.has("results.json") \
            else str(run.path.resolve())
        if key in seen:
            warnings.append(f"runs {seen[key]} and {run.run_id} have identical results: they "
                            "are the same run, so every difference is zero by construction")
        seen.setdefault(key, run.run_id)
    return warnings


def _reported(results: dict[str, Any]) -> dict[tuple[str, str, tuple[tuple[str, str], ...]],
                                                dict[str, Any]]:
    """Every reported metric value keyed by (suite, metric, sorted group items)."""
    table = {}
    for suite, entry in results["suites"].items():
        for metric in entry["metrics"]:
            table[(suite, metric["metric"], tuple(sorted(metric["group"].items())))] = metric
    return table


def suite_statistics() -> dict[str, Statistic]:
    """The `statistic` hook of every suite found on this installation, by suite name.

    A suite that cannot be built here (another checkout, a missing plugin) is left out: its
    derived metrics are then compared unpaired.
    """
    from audit.suites.base import Sample, Suite
    from audit.suites.discovery import available

    hooks: dict[str, Statistic] = {}
    for name, factory in available().items():
        try:
            suite = factory()
        except Exception as exc:  # noqa: BLE001  (a broken plugin must not stop a comparison)
            log.warning("Suite %s cannot be loaded for comparison: %s", name, exc)
            continue
        if type(suite).statistic is Suite.statistic:
            continue
        # A bootstrap hands the hook the same record objects thousands of times (2,000 draws
        # of every shared item, per metric and group), so each is made a Sample once, keyed by
        # identity; `kept` holds every keyed record, so no other object can take its id.
        kept: dict[int, dict[str, Any]] = {}
        made: dict[int, Sample] = {}

        def hook(metric: str, group: dict[str, str], records: list[dict[str, Any]],
                 suite: Suite = suite, kept: dict[int, dict[str, Any]] = kept,
                 made: dict[int, Sample] = made) -> float | None:
            try:
                samples = [made[id(r)] for r in records]
            except KeyError:  # records this hook has not seen yet
                for record in records:
                    if id(record) not in made:
                        kept[id(record)], made[id(record)] = record, Sample.from_dict(record)
                samples = [made[id(r)] for r in records]
            return suite.statistic(metric, group, samples)

        hooks[name] = hook
    return hooks


def share_counts(reported: dict[str, Any]) -> tuple[int, int] | None:
    """(successes, n) of a reported metric that is a share of 0/1 scores (its interval is
    Clopper-Pearson and value x n is a whole number); None for any other metric."""
    n, value = reported.get("n") or 0, reported.get("value")
    if reported.get("ci_method") != CLOPPER_PEARSON or n <= 0 or not _finite(value):
        return None
    successes = value * n
    return (round(successes), n) if abs(successes - round(successes)) < 1e-6 else None


def _unpaired(reported_a: dict[str, Any] | None, reported_b: dict[str, Any] | None
              ) -> tuple[float | None, float | None, float | None, float | None, float | None,
                         float | None]:
    """(value_a, value_b, delta, CI low, CI high, p-value): for two shares (`share_counts`)
    Newcombe's interval and a pooled z-test, else normal from the standard errors."""
    value_a = reported_a["value"] if reported_a else None
    value_b = reported_b["value"] if reported_b else None
    if value_a is None or value_b is None:
        return value_a, value_b, None, None, None, None
    delta = value_b - value_a
    counts_a, counts_b = share_counts(reported_a), share_counts(reported_b)
    if counts_a is not None and counts_b is not None:
        low, high = newcombe_interval(*counts_a, *counts_b)
        return value_a, value_b, delta, low, high, pooled_z_p_value(*counts_a, *counts_b)
    se_a, se_b = reported_a.get("stderr"), reported_b.get("stderr")
    if se_a is None or se_b is None or math.hypot(se_a, se_b) == 0:
        return value_a, value_b, delta, None, None, None
    se = math.hypot(se_a, se_b)
    p_value = math.erfc(abs(delta) / se / math.sqrt(2))
    return value_a, value_b, delta, delta - Z95 * se, delta + Z95 * se, p_value


def _unpaired_method(reported_a: dict[str, Any], reported_b: dict[str, Any]) -> str:
    """How `_unpaired` compared two reported metrics, or why it could not."""
    if reported_a["value"] is None or reported_b["value"] is None:
        return {(True, True): NO_VALUE, (True, False): NO_VALUE_A,
                (False, True): NO_VALUE_B}[(reported_a["value"] is None,
                                            reported_b["value"] is None)]
    if share_counts(reported_a) is not None and share_counts(reported_b) is not None:
        return UNPAIRED_SHARES
    return UNPAIRED


def compare_pair(run_a: RunFolder, run_b: RunFolder, suites: Iterable[str] | None = None,
                 statistics: dict[str, Statistic] | None = None) -> list[MetricDelta]:
    """Deltas of run B against baseline run A for every metric and group both report.

    `suites` restricts the comparison (names or glob patterns); `statistics` maps a suite to a
    function recomputing a derived metric from sample records (default: each installed suite's
    `statistic` hook, looked up only when a metric has no per-item scores).
    """
    results_a, results_b = run_a.read_json("results.json"), run_b.read_json("results.json")
    shared_suites = [s for s in results_a["suites"] if s in results_b["suites"]]
    if suites is not None:
        patterns = list(suites)
        shared_suites = [s for s in shared_suites
                         if any(fnmatch.fnmatchcase(s, p) for p in patterns)]
    samples_a, samples_b = index_samples(run_a), index_samples(run_b)
    reported_a, reported_b = _reported(results_a), _reported(results_b)
    if statistics is None:
        scored = {(suite, name) for index in (samples_a, samples_b)
                  for suite, records in index.items() for record in records.values()
                  for name in record.get("scores") or {}}
        derived = any((suite, metric) not in scored for suite, metric, _ in
                      (*reported_a, *reported_b) if suite in shared_suites)
        statistics = suite_statistics() if derived else {}
    deltas: list[MetricDelta] = []
    for suite in shared_suites:
        info = {**results_a["suites"][suite]["metric_info"],
                **results_b["suites"][suite]["metric_info"]}
        items_a, items_b = samples_a.get(suite, {}), samples_b.get(suite, {})
        shared_ids = sorted(set(items_a) & set(items_b))
        keys = sorted({k for k in (*reported_a, *reported_b) if k[0] == suite},
                      key=lambda k: (list(info).index(k[1]) if k[1] in info else len(info),
                                     k[1], len(k[2]), k[2]))
        for key in keys:
            _, metric, group_items = key
            group = dict(group_items)
            meta = info.get(metric, {})
            common = dict(suite=suite, metric=metric, group=group, run_a=run_a.run_id,
                          run_b=run_b.run_id, label=meta.get("label", metric),
                          unit=meta.get("unit", ""), better=meta.get("better", "higher"),
                          family=meta.get("family", ""), target=meta.get("target"),
                          n_a=(reported_a.get(key) or {}).get("n", 0),
                          n_b=(reported_b.get(key) or {}).get("n", 0))
            deltas.append(_compare_metric(common, shared_ids, items_a, items_b,
                                          reported_a.get(key), reported_b.get(key),
                                          statistics.get(suite)))
    return holm(deltas)


def _compare_metric(common: dict[str, Any], shared_ids: list[str],
                    items_a: dict[str, dict[str, Any]], items_b: dict[str, dict[str, Any]],
                    reported_a: dict[str, Any] | None, reported_b: dict[str, Any] | None,
                    statistic: Statistic | None) -> MetricDelta:
    metric, group = common["metric"], common["group"]
    if reported_a is None or reported_b is None:
        value_a = reported_a["value"] if reported_a else None
        value_b = reported_b["value"] if reported_b else None
        return MetricDelta(**common, value_a=value_a, value_b=value_b, delta=None, ci_low=None,
                           ci_high=None, n_pairs=0, method=ABSENT)
    pairs = [(items_a[i], items_b[i]) for i in shared_ids
             if in_group(items_a[i], group) and in_group(items_b[i], group)]
    scored = [(a, b) for a, b in pairs if _finite(a.get("scores", {}).get(metric))
              and _finite(b.get("scores", {}).get(metric))]
    if scored:
        a = np.array([p[0]["scores"][metric] for p in scored], dtype=float)
        b = np.array([p[1]["scores"][metric] for p in scored], dtype=float)
        delta, low, high, p_value, method = paired_mean_difference(a, b)
        return MetricDelta(**common, value_a=float(a.mean()), value_b=float(b.mean()),
                           delta=delta, ci_low=low, ci_high=high, n_pairs=len(scored),
                           method=method, p_value=p_value)
    if statistic is not None and pairs and not _any_score(pairs, metric):
        # The statistic sees every shared item (a group's value may need other groups, e.g.
        # a language against English) and computes the value for `group` itself.
        def on(records: list[dict[str, Any]]) -> float | None:
            value = statistic(metric, group, records)
            return float(value) if _finite(value) else None

        paired = paired_statistic_difference(on, [items_a[i] for i in shared_ids],
                                             [items_b[i] for i in shared_ids])
        if paired is not None:
            value_a, value_b, low, high, p_value = paired
            return MetricDelta(**common, value_a=value_a, value_b=value_b,
                               delta=value_b - value_a, ci_low=low, ci_high=high,
                               n_pairs=len(pairs), method=PAIRED_STATISTIC, p_value=p_value)
    notes = [] if pairs else ["the runs share no scored items in this group"]
    value_a, value_b, delta, low, high, p_value = _unpaired(reported_a, reported_b)
    return MetricDelta(**common, value_a=value_a, value_b=value_b, delta=delta, ci_low=low,
                       ci_high=high, n_pairs=0, method=_unpaired_method(reported_a, reported_b),
                       notes=notes, p_value=p_value)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _any_score(pairs: list[tuple[dict[str, Any], dict[str, Any]]], metric: str) -> bool:
    return any(metric in a.get("scores", {}) or metric in b.get("scores", {}) for a, b in pairs)


def compare_runs(runs: list[RunFolder], baseline: int = 0, suites: Iterable[str] | None = None
                 ) -> list[MetricDelta]:
    """Every other run against `runs[baseline]`: the deltas of all pairs, baseline first, with
    Holm's correction over all of them together. Runs identical to another are logged."""
    if len(runs) < 2:
        raise RunFolderError("a comparison needs at least two runs",
                             fix="name two or more run folders (the first is the baseline).")
    if not 0 <= baseline < len(runs):
        raise RunFolderError(f"baseline index {baseline} is out of range for {len(runs)} runs",
                             fix=f"choose a baseline between 0 and {len(runs) - 1}.")
    suites = list(suites) if suites is not None else None
    for warning in same_runs(runs):
        log.warning("%s", warning)
    deltas: list[MetricDelta] = []
    for index, run in enumerate(runs):
        if index != baseline:
            deltas.extend(compare_pair(runs[baseline], run, suites))
    return holm(deltas)


DELTA_COLUMNS = ["run_a", "run_b", "suite", "metric", "label", "group", "value_a", "value_b",
                 "delta", "ci_low", "ci_high", "n_pairs", "p_value", "p_adjusted",
                 "significant", "too_few_items",
                 "improved", "method", "unit", "better", "family"]


def deltas_frame(deltas: list[MetricDelta]):  # -> pandas.DataFrame (imported lazily)
    """The deltas as a pandas DataFrame, one row per (pair of runs, suite, metric, group).

    `group` is the readable group text ('overall', 'language=fra'); the group's keys are also
    columns prefixed `group.` (e.g. `group.language`) so a caller can filter on them.
    """
    import pandas as pd

    rows = []
    for d in deltas:
        row = {"run_a": d.run_a, "run_b": d.run_b, "suite": d.suite, "metric": d.metric,
               "label": d.label, "group": d.group_text, "value_a": d.value_a,
               "value_b": d.value_b, "delta": d.delta, "ci_low": d.ci_low,
               "ci_high": d.ci_high, "n_pairs": d.n_pairs, "p_value": d.p_value,
               "p_adjusted": d.p_adjusted, "significant": d.significant,
               "too_few_items": d.too_few_items, "improved": d.improved, "method": d.method,
               "unit": d.unit, "better": d.better, "family": d.family}
        row.update({f"group.{k}": v for k, v in d.group.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=DELTA_COLUMNS)
    return frame
