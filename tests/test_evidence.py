"""The results writer's evidence record: grades, and no zero-width interval ever written."""

from __future__ import annotations

import numpy as np
import pytest

from audit.evidence import INSUFFICIENT, NONE_ZERO_WIDTH, SCREENING, graded
from audit.metrics import MetricResult
from audit.stats import estimate_mean


def test_writer_withholds_a_zero_width_interval() -> None:
    # A suite that computed its own interval [1, 1] on 12 items (the kind of interval the
    # judge-corrected compliance once had): written without it, graded insufficient.
    collapsed = MetricResult("compliance", 1.0, 12, 0.0, 1.0, 1.0, "some bootstrap")
    share = MetricResult.from_estimate("acc", estimate_mean(np.ones(12)))
    first, second = graded([collapsed, share], {"compliance": "proportion",
                                                "acc": "proportion"}, screening=False)
    assert (first["ci_low"], first["ci_high"], first["ci_method"]) == (None, None,
                                                                       NONE_ZERO_WIDTH)
    assert first["evidence"] == INSUFFICIENT and first["value"] == 1.0 and first["n"] == 12
    # A share of 12 of 12 keeps its Clopper-Pearson interval [0.025^(1/12), 1] = [0.735, 1].
    assert second["ci_high"] == 1.0 and second["ci_low"] == pytest.approx(0.025 ** (1 / 12))
    assert second["evidence"] == SCREENING
