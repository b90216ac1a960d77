"""The statistics of the multilingual suite, as functions of per-item rows.

Each function takes a 2-D array (one row per item, columns as documented) so that
`audit.stats.estimate_statistic` can bootstrap it over items. Paired statistics take the same
items in language L and in English on one row, so the bootstrap resamples shared item ids and
the interval reflects the pairing. `across_languages` averages a statistic over the languages
of a 3-D array (item x language x column), resampling items jointly for all languages.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from audit.multilingual.fidelity import harmonic_mean

Statistic = Callable[[np.ndarray], float]
CHANCE_FOUR_OPTIONS = 0.25


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else math.nan


def ratio_of_sums(rows: np.ndarray) -> float:
    """Columns (a, b): sum(a) / sum(b), e.g. tokens per word or bits per byte."""
    return _ratio(rows[:, 0].sum(), rows[:, 1].sum())


def relative_ratio(rows: np.ndarray) -> float:
    """Columns (a_L, b_L, a_eng, b_eng): [sum(a_L)/sum(b_L)] / [sum(a_eng)/sum(b_eng)]."""
    return _ratio(ratio_of_sums(rows[:, 0:2]), ratio_of_sums(rows[:, 2:4]))


def mean_difference(rows: np.ndarray) -> float:
    """Columns (x_L, x_eng): mean(x_L) - mean(x_eng), e.g. the accuracy gap to English."""
    return float(rows[:, 0].mean() - rows[:, 1].mean())


def parity(rows: np.ndarray, chance: float = CHANCE_FOUR_OPTIONS) -> float:
    """Columns (correct_L, correct_eng): (acc_L - c) / (acc_eng - c); NaN when acc_eng <= c."""
    above_chance = rows[:, 1].mean() - chance
    return float((rows[:, 0].mean() - chance) / above_chance) if above_chance > 0 else math.nan


def fidelity(rows: np.ndarray) -> float:
    """Columns (line_pass, word_pass): LCB's harmonic mean of line- and word-level pass rates.

    `word_pass` is NaN where word level is not measured (Latin-script languages, and
    responses that failed line level); with no word-level value the line-level rate is
    returned.
    """
    line_rate = float(rows[:, 0].mean())
    words = rows[:, 1][~np.isnan(rows[:, 1])]
    if len(words) == 0:
        return line_rate
    return harmonic_mean(line_rate, float(words.mean()))


def word_rate(rows: np.ndarray) -> float:
    """Column (word_pass): mean over the responses where it was measured (NaN elsewhere)."""
    measured = rows[:, 0][~np.isnan(rows[:, 0])]
    return float(measured.mean()) if len(measured) else math.nan


def across_languages(statistic: Statistic) -> Statistic:
    """Mean of `statistic` over the languages (axis 1) of an item x language x column array."""

    def mean_over_languages(data: np.ndarray) -> float:
        values = [statistic(data[:, j, :]) for j in range(data.shape[1])]
        return float(np.mean(values)) if all(np.isfinite(values)) else math.nan

    return mean_over_languages
