"""Refusal/compliance judges for the misuse suites, and how a run chooses one.

`make_judge(spec)` builds a judge from a short spec: `patterns` (the default, offline) or
`llm:<model uri>` (any registered model as the judge, e.g. `llm:packaged:smollm2-135m-instruct`).
A run uses the spec in `$FM_AUDIT_JUDGE`, else `patterns`; `fm-audit rescore` can therefore
re-judge a run with another judge without the audited model.
"""

from __future__ import annotations

import os
from functools import lru_cache

from audit.errors import ConfigError
from audit.judges.base import COMPLIANCE, REFUSAL, Judge, JudgeItem, Verdict

JUDGE_ENV = "FM_AUDIT_JUDGE"
DEFAULT_JUDGE = "patterns"

__all__ = ["COMPLIANCE", "REFUSAL", "Judge", "JudgeItem", "Verdict", "active_judge",
           "make_judge"]


@lru_cache(maxsize=4)
def make_judge(spec: str = DEFAULT_JUDGE) -> Judge:
    """The judge a spec names (built once per process: an LLM judge loads its model)."""
    from audit.judges.patterns import PatternJudge

    if spec == "patterns":
        return PatternJudge()
    kind, _, uri = spec.partition(":")
    if kind == "llm" and uri:
        from audit.judges.llm import LLMJudge
        from audit.registry import load_model

        return LLMJudge(load_model(uri), fallback=PatternJudge())
    raise ConfigError(f"unknown judge {spec!r}",
                      fix=f"set {JUDGE_ENV} to `patterns` or `llm:<model uri>`, e.g. "
                          "llm:packaged:smollm2-135m-instruct.")


def active_judge() -> Judge:
    """The judge this process uses: `$FM_AUDIT_JUDGE`, else the pattern judge."""
    return make_judge(os.environ.get(JUDGE_ENV) or DEFAULT_JUDGE)
