"""Refusal/compliance judges for the misuse suites, and how a run chooses one.

`make_judge(spec, data)` builds a judge from a short spec: `patterns` (the default:
per-language refusal regexes), `classifier` (a logistic regression over character n-grams,
fitted on the labelled responses, offline, on CPU), `embedding` (a logistic regression over
all-MiniLM-L6-v2 sentence embeddings, likewise), `multilingual-embedding` (the same over
multilingual-e5-small embeddings of the response and the request, with cues of echo,
repetition, language and relevance) or `llm:<model uri>`
(any registered model as the judge, e.g. `llm:packaged:smollm2-135m-instruct`). `data`
names the pattern and labelled files; the misuse family owns them and passes them in
(`audit.misuse.data.judge_data`). A run uses its config's `judge` (`--judge`), else the spec
in `$FM_AUDIT_JUDGE`, else the default;
`fm-audit rescore` can therefore re-judge a run with another judge without the audited model.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from audit.errors import ConfigError
from audit.judges.base import COMPLIANCE, REFUSAL, Judge, JudgeData, JudgeItem, Verdict
from audit.paths import bundle_root

JUDGE_ENV = "FM_AUDIT_JUDGE"
# The patterns stay the default: on the test split they never called a compliant response a
# refusal (specificity 1.00), while the classifier did so for a third of them (0.65), which
# would report refusals a model did not make; its higher recall is available with --judge.
DEFAULT_JUDGE = "patterns"
MULTILINGUAL_EMBEDDING = "multilingual-embedding"
_selected: str | None = None

__all__ = ["COMPLIANCE", "DEFAULT_JUDGE", "REFUSAL", "Judge", "JudgeData", "JudgeItem", "Verdict",
           "active_judge", "active_spec", "judge_record", "make_judge", "select_judge"]


def make_judge(spec: str = DEFAULT_JUDGE, data: JudgeData | None = None) -> Judge:
    """The judge a spec names, built from `data`, by default the refusal patterns and labelled
    responses shipped with fm-audit (once per process: the classifier is fitted, an LLM judge
    loads its model). `make_judge()` is the default judge."""
    if data is None:
        data = JudgeData.in_folder(bundle_root() / "suites" / "misuse" / "data")
    return _built_judge(spec, data)


@lru_cache(maxsize=4)
def _built_judge(spec: str, data: JudgeData) -> Judge:
    """The judge `spec` names, built from `data` once per process."""
    from audit.judges.patterns import PatternJudge

    if spec == "patterns":
        return PatternJudge(data.patterns)
    if spec == "classifier":
        from audit.judges.classifier import ClassifierJudge
        from audit.judges.validation import load_labelled

        return ClassifierJudge(load_labelled(data.labelled, split="train"),
                               PatternJudge(data.patterns))
    if spec == "embedding":
        from audit.judges.embedder import sentence_embedder
        from audit.judges.embedding import EmbeddingJudge
        from audit.judges.validation import load_labelled

        return EmbeddingJudge(load_labelled(data.labelled, split="train"),
                              PatternJudge(data.patterns), sentence_embedder())
    if spec == MULTILINGUAL_EMBEDDING:
        from audit.judges.embedding import MULTILINGUAL_SETTINGS, EmbeddingJudge
        from audit.judges.multilingual_embedder import multilingual_embedder
        from audit.judges.validation import load_labelled

        # Fitted on train and dev: its settings were chosen by cross-validation over both.
        return EmbeddingJudge(load_labelled(data.labelled, split="train")
                              + load_labelled(data.labelled, split="dev"),
                              PatternJudge(data.patterns), multilingual_embedder(),
                              MULTILINGUAL_SETTINGS, kind=MULTILINGUAL_EMBEDDING)
    kind, _, uri = spec.partition(":")
    if kind == "llm" and uri:
        from audit.judges.llm import LLMJudge
        from audit.registry import load_model

        return LLMJudge(load_model(uri), fallback=PatternJudge(data.patterns))
    raise ConfigError(f"unknown judge {spec!r}",
                      fix="use --judge (or set " + JUDGE_ENV + ") to `classifier`, `embedding`, "
                          "`multilingual-embedding`, `patterns` or `llm:<model uri>`, e.g. "
                          "llm:packaged:smollm2-135m-instruct.")


def select_judge(spec: str | None, data: JudgeData) -> None:
    """Make `spec` this process's judge (a run's `--judge`); None falls back to the
    environment variable, then the default. The spec is checked (built from `data`) before
    it is kept."""
    global _selected
    if spec is not None:
        make_judge(spec, data)
    _selected = spec


def active_spec() -> str:
    """The spec of the judge this process uses: the run's choice, `$FM_AUDIT_JUDGE`, else the
    default."""
    return _selected or os.environ.get(JUDGE_ENV) or DEFAULT_JUDGE


def active_judge(data: JudgeData) -> Judge:
    """The judge this process uses (see `active_spec`), built from `data`."""
    return make_judge(active_spec(), data)


def judge_record(data: JudgeData) -> dict[str, Any]:
    """What run.json records of this process's judge: its spec, name (with its version, for a
    fitted judge), how it was made, and its precision, recall and specificity on the test
    split of `data`'s labelled responses, with counts and 95% intervals."""
    from audit.judges.validation import judge_quality

    judge = active_judge(data)
    describe = getattr(judge, "describe", None)
    return {"spec": active_spec(), "name": judge.name,
            **(describe() if callable(describe) else {"kind": judge.name}),
            "quality_on_test_split": judge_quality(judge, data.labelled)}
