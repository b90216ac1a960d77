"""fm-audit's capability numbers equal lm-eval's own `simple_evaluate` on the same task file and
the same model object: the same requests, the same per-item scores, the same accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.execution import RequestCache, execute
from audit.suites.base import SuiteContext
from audit.suites.discovery import select
from audit.suites.profile import Profile

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("name", "how"), [("capability/commonsenseqa", "sample"),
                                           ("capability/mmlu_letters", "limit")])
def test_scores_equal_lm_eval_simple_evaluate(smollm2, tmp_path: Path, name: str,
                                              how: str) -> None:
    import lm_eval
    from lm_eval.tasks import TaskManager

    suite = select([name])[0]
    task_name = suite.spec.tasks[0]
    suite.spec.profiles["agreement"] = Profile(per_stratum=3)
    context = SuiteContext(model=smollm2, profile="agreement", seed=7,
                           limit=3 if how == "limit" else None)
    samples = suite.build_samples(context)
    execute(smollm2.lm, samples, RequestCache(tmp_path / "requests.jsonl", "agreement"))
    suite.score(samples)
    ids = suite.selection()["tasks"][task_name]["document_ids"]
    assert suite.selection()["origin"] == ("--limit" if how == "limit" else "profile")

    reference = lm_eval.simple_evaluate(
        model=smollm2.lm, tasks=suite.task_configs(), samples={task_name: ids},
        log_samples=True, bootstrap_iters=0,
        task_manager=TaskManager(include_defaults=False))
    theirs = sorted(reference["samples"][task_name], key=lambda record: record["doc_id"])
    assert len(theirs) == len(samples) == 3
    for ours, record in zip(samples, theirs, strict=True):
        assert ours.data["doc_id"] == record["doc_id"]  # both the row in the file
        assert [list(r.args) for r in ours.requests] == [list(a) for a in record["arguments"]]
        for metric in ("acc", "acc_norm"):
            if metric in record:
                assert ours.scores[metric] == record[metric], (metric, ours.id)
        for mine, (logprob, _) in zip(ours.responses, (r[0] for r in record["resps"]),
                                      strict=True):
            assert mine[0] == pytest.approx(float(logprob), abs=1e-4)
    accuracy = sum(s.scores["acc"] for s in samples) / len(samples)
    assert accuracy == pytest.approx(reference["results"][task_name]["acc,none"])


def test_a_suite_whose_tasks_are_all_skipped_is_reported_not_failed(smollm2, tmp_path: Path,
                                                                     monkeypatch) -> None:
    from huggingface_hub import constants

    from audit.config import RunConfig
    from audit.runner import run_suite

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    suite = select(["capability/lm_eval_hub"])[0]
    results, energy, records = run_suite(
        suite, smollm2, RunConfig(suites=[suite.name], out=tmp_path),
        RequestCache(tmp_path / "requests.jsonl", "skipped"))
    assert results["n_samples"] == 0 and records == [] and results["metrics"] == []
    assert len(results["skipped"]) == len(suite.spec.tasks) == 5
    assert energy["n_requests"] == 0
