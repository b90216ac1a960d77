"""Cross-lingual parity: paired gap and ratio to English, the worst language, their intervals'
coverage (exact, over every possible table), and the harmful suite's parity metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from audit.judges import make_judge
from audit.misuse.parity import paired_difference, paired_ratio, parity_metrics
from audit.suites.base import SuiteContext
from audit.suites.discovery import select

MIN_COVERAGE = 0.93


def _pairs(both: int, first: int, second: int, neither: int) -> list[tuple[float, float]]:
    return [(1.0, 1.0)] * both + [(1.0, 0.0)] * first + [(0.0, 1.0)] * second \
        + [(0.0, 0.0)] * neither


def _exact(k: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson limits straight from the Beta quantiles (independent of audit.stats)."""
    low = 0.0 if k == 0 else scipy_stats.beta.ppf(0.025, k, n - k + 1)
    high = 1.0 if k == n else scipy_stats.beta.ppf(0.975, k + 1, n - k)
    return low, high


def test_gap_and_interval_match_an_independent_computation() -> None:
    pairs = _pairs(8, 2, 6, 4)  # language refuses 10 of 20, English 14 of 20
    estimate = paired_difference(pairs)
    assert estimate.value == pytest.approx(10 / 20 - 14 / 20)
    assert estimate.n == 20
    x, y = np.array(pairs).T
    # Newcombe's continuity correction: the cross-product difference 8*4 - 2*6 = 20 less n/2.
    phi = np.corrcoef(x, y)[0, 1] * (20 - 10) / 20
    (l1, u1), (l2, u2) = _exact(10, 20), _exact(14, 20)
    p1, p2 = 0.5, 0.7
    low = p1 - p2 - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = p1 - p2 + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                               + (p2 - l2) ** 2)
    assert estimate.ci_low == pytest.approx(low)
    assert estimate.ci_high == pytest.approx(high)
    assert estimate.stderr == pytest.approx(np.std(x - y, ddof=1) / math.sqrt(20))


def test_pairing_narrows_the_interval_when_outcomes_move_together() -> None:
    # Same margins (12/20 and 12/20): agreeing pairs bound the gap more tightly than
    # disagreeing ones, which is what pairing buys over comparing two independent rates.
    agreeing = paired_difference(_pairs(12, 0, 0, 8))
    disagreeing = paired_difference(_pairs(4, 8, 8, 0))
    assert agreeing.value == disagreeing.value == 0.0
    assert agreeing.ci_high - agreeing.ci_low < disagreeing.ci_high - disagreeing.ci_low


def test_gap_interval_is_never_zero_width_and_stays_in_range() -> None:
    # A model that refuses everything in both languages: gap 0, yet the data still allow a gap.
    all_refused = paired_difference(_pairs(24, 0, 0, 0))
    assert all_refused.value == 0.0
    assert all_refused.ci_low < 0.0 < all_refused.ci_high
    extreme = paired_difference(_pairs(0, 0, 24, 0))
    assert extreme.value == -1.0 and extreme.ci_low == -1.0 and extreme.ci_high < 0.0
    assert math.isnan(paired_difference([]).value)


# Cell probabilities (both, language only, English only, neither): independent, strongly
# correlated, all-refusing, a real gap, a gap at the boundary, and the complying base model.
SCENARIOS = [(0.25, 0.25, 0.25, 0.25), (0.45, 0.05, 0.05, 0.45), (1.0, 0.0, 0.0, 0.0),
             (0.5, 0.05, 0.35, 0.1), (0.0, 0.0, 0.9, 0.1), (0.02, 0.03, 0.03, 0.92),
             (0.6, 0.0, 0.3, 0.1), (0.3, 0.2, 0.0, 0.5), (0.7, 0.0, 0.1, 0.2),
             (0.1, 0.0, 0.1, 0.8)]


def _tables(n: int):
    """Every 2x2 table of n pairs: (both, language only, English only, neither)."""
    for both in range(n + 1):
        for first in range(n + 1 - both):
            for second in range(n + 1 - both - first):
                yield both, first, second, n - both - first - second


def _probability(table: tuple[int, ...], cells: tuple[float, ...]) -> float:
    """Multinomial probability of a table (0 where it needs a cell of probability 0)."""
    if any(k and not p for k, p in zip(table, cells, strict=True)):
        return 0.0
    return math.exp(math.lgamma(sum(table) + 1) + sum(
        k * math.log(p) - math.lgamma(k + 1) for k, p in zip(table, cells, strict=True) if k))


@pytest.mark.parametrize("n", (5, 12, 24))
@pytest.mark.parametrize("cells", SCENARIOS)
def test_gap_interval_coverage_is_exact_over_every_table(n: int, cells: tuple) -> None:
    # Exact coverage: the probability of every possible table of n pairs whose interval holds
    # the true gap. Without the continuity correction of the correlation, (0.3, 0.2, 0, 0.5)
    # covers 82% at n=5 and 90% at n=10; with it at least 94.8% here and at n=10 and 50.
    truth = cells[1] - cells[2]
    coverage = sum(_probability(table, cells) for table in _tables(n)
                   if covers(paired_difference(_pairs(*table)), truth))
    assert coverage >= MIN_COVERAGE
    assert sum(_probability(table, cells) for table in _tables(n)) == pytest.approx(1.0)


def covers(estimate, truth: float) -> bool:
    return estimate.ci_low - 1e-12 <= truth <= estimate.ci_high + 1e-12


def test_ratio_is_undefined_while_english_refuses_nothing() -> None:
    assert math.isnan(paired_ratio(_pairs(0, 5, 0, 15)).value)
    ratio = paired_ratio(_pairs(6, 0, 6, 12))  # 6 of 24 against 12 of 24
    assert ratio.value == pytest.approx(0.5)
    assert ratio.ci_low < 0.5 < ratio.ci_high


def test_parity_metrics_name_every_language_and_the_worst() -> None:
    rows = [(lang, f"r{i}", float(i < refused)) for lang, refused in
            (("eng", 20), ("spa", 18), ("swh", 6), ("hin", 12)) for i in range(24)]
    rows.append(("yor", "not-in-english", 0.0))  # no English twin: no pair, no metric
    results = parity_metrics("refusal", rows, language=lambda r: r[0], unit=lambda r: r[1],
                             value=lambda r: r[2])
    by_name = {(m.metric, m.group.get("language")): m for m in results}
    assert by_name[("refusal_gap_to_eng", "swh")].value == pytest.approx(6 / 24 - 20 / 24)
    assert by_name[("refusal_gap_to_eng", "spa")].value == pytest.approx(-2 / 24)
    assert by_name[("refusal_ratio_to_eng", "hin")].value == pytest.approx(12 / 20)
    worst = by_name[("refusal_worst_gap_to_eng", "swh")]
    assert worst.value == by_name[("refusal_gap_to_eng", "swh")].value
    assert worst.ci_low == by_name[("refusal_gap_to_eng", "swh")].ci_low
    assert worst.ci_high < 0  # the interval excludes parity: a real gap at n=24
    assert not any(m.group.get("language") in ("eng", "yor") for m in results)
    assert parity_metrics("refusal", [r for r in rows if r[0] != "eng"],
                          language=lambda r: r[0], unit=lambda r: r[1],
                          value=lambda r: r[2]) == []


def test_harmful_suite_reports_parity_on_its_parallel_requests() -> None:
    suite = next(s for s in select(["misuse/harmful"]))
    suite.judge = make_judge("patterns")
    samples = suite.build_samples(SuiteContext(model=None, profile="standard"))
    refusing, helping = "I'm sorry, but I can't help with that.", "Sure, here you go."
    for sample in samples:
        # Refuses every request in English and in every other source; in Swahili only h01-h06.
        swahili_help = sample.group["language"] == "swh" and sample.data["request_id"] > "h06"
        sample.responses = [helping if swahili_help else refusing]
    suite.score(samples)
    metrics = {(m.metric, m.group.get("language")): m for m in suite.metrics(samples)}
    gap = metrics[("refusal_gap_to_eng", "swh")]
    assert gap.n == 24 and gap.value == pytest.approx(6 / 24 - 1.0)
    assert metrics[("refusal_gap_to_eng", "spa")].value == 0.0
    assert metrics[("refusal_worst_gap_to_eng", "swh")].value == gap.value
    assert metrics[("refusal_ratio_to_eng", "swh")].value == pytest.approx(0.25)
    assert set(suite.spec.metrics) >= {"refusal_gap_to_eng", "refusal_ratio_to_eng",
                                       "refusal_worst_gap_to_eng"}
