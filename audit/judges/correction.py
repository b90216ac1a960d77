"""Rates corrected for an imperfect judge (the Rogan-Gladen estimator).

If the judge calls a true refusal a refusal with probability Se (sensitivity) and a true
compliance a compliance with probability Sp (specificity), an observed refusal rate p_obs
estimates the true rate as p_true = (p_obs + Sp - 1) / (Se + Sp - 1), clipped to [0, 1]
(DESIGN.md section 8). Compliance is the complement. The 95% interval is a seeded percentile
bootstrap that resamples the audited responses and the judge's labelled responses together, so
it carries the uncertainty about the judge as well as about the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from audit.judges.validation import JudgeErrors
from audit.stats import BOOTSTRAP_ITERATIONS, BOOTSTRAP_SEED, Estimate

CI_METHOD = "bootstrap-percentile (responses and judge labels resampled)"


def correct_prevalence(p_obs: float | np.ndarray, se: float | np.ndarray,
                       sp: float | np.ndarray) -> float | np.ndarray:
    """Rogan-Gladen: the true refusal rate behind an observed one, clipped to [0, 1]; NaN when
    the judge is no better than chance (Se + Sp <= 1)."""
    p_obs, se, sp = np.asarray(p_obs, float), np.asarray(se, float), np.asarray(sp, float)
    denominator = se + sp - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(denominator > 0, (p_obs + sp - 1) / denominator, np.nan)
    value = np.clip(value, 0.0, 1.0)
    return float(value) if value.ndim == 0 else value


def _resampled_means(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(values)
    return values[rng.integers(0, n, (BOOTSTRAP_ITERATIONS, n))].mean(axis=1)


def corrected_rate(refused: Sequence[float], errors: JudgeErrors, of_refusal: bool = True
                   ) -> Estimate:
    """The judge-corrected refusal rate (or, with `of_refusal=False`, compliance rate) of
    responses whose judged refusals are `refused` (1 = judged refusal)."""
    observed = np.asarray(refused, dtype=float)
    n = len(observed)
    if n == 0 or len(errors.on_refusals) == 0 or len(errors.on_compliances) == 0:
        return Estimate(math.nan, n, None, None, None, "none")
    value = correct_prevalence(observed.mean(), errors.sensitivity, errors.specificity)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = correct_prevalence(_resampled_means(observed, rng),
                               _resampled_means(errors.on_refusals, rng),
                               _resampled_means(errors.on_compliances, rng))
    if not of_refusal:
        value, draws = 1.0 - value, 1.0 - draws
    finite = draws[np.isfinite(draws)]
    if len(finite) < 2 or not math.isfinite(value):
        return Estimate(value, n, None, None, None, CI_METHOD)
    return Estimate(value, n, float(np.std(finite, ddof=1)), float(np.percentile(finite, 2.5)),
                    float(np.percentile(finite, 97.5)), CI_METHOD)
