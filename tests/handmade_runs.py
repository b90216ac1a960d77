"""Hand-written run folders with known numbers, for report, comparison and policy edge cases.

Real runs come from the engine (the `small_run` fixture); these folders exist for cases the
engine cannot be steered into on a few items: a misuse suite, per-language groups, a metric
missing from a run, planted hostile model output. They are written through `RunFolder`, so
they satisfy the same JSON Schemas as engine output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.metrics import MetricResult
from audit.runfolder import SCHEMA_VERSION, RunFolder
from audit.stats import estimate_mean

MODEL = {"uri": "hf:handmade/model", "scheme": "hf", "name": "handmade/model",
         "files": [{"path": "model.safetensors", "sha256": "0" * 64}], "parameters": 1000,
         "dtype": "float32", "device": "cpu", "licence": "test-only"}


def info(label: str, family: str, better: str = "higher", unit: str = "proportion",
         target: float | None = None) -> dict[str, Any]:
    """A metric_info entry."""
    return {"name": label, "label": label, "description": f"{label} (hand-made)",
            "formula": "mean of per-item scores", "unit": unit, "better": better,
            "target": target, "family": family, "implementation": "test",
            "limits": "hand-made numbers"}


def suite_entry(family: str, metric_info: dict[str, dict[str, Any]],
                samples: list[dict[str, Any]], group_by: tuple[str, ...] = ()
                ) -> dict[str, Any]:
    """A results.json suite entry whose metrics are the means of the samples' scores."""
    metrics = []
    for metric in metric_info:
        scored = [s for s in samples if metric in s["scores"]]
        if not scored:
            continue
        metrics.append(MetricResult.from_estimate(
            metric, estimate_mean([s["scores"][metric] for s in scored])).to_dict())
        for key in group_by:
            for value in sorted({s["group"][key] for s in scored if key in s["group"]}):
                members = [s["scores"][metric] for s in scored if s["group"].get(key) == value]
                metrics.append(MetricResult.from_estimate(
                    metric, estimate_mean(members), {key: value}).to_dict())
    return {"family": family, "description": f"hand-made {family} suite",
            "n_samples": len(samples), "limits": "hand-made", "data": [
                {"name": "hand-made items", "source": "tests/handmade_runs.py", "version": "1",
                 "licence": "Apache-2.0", "citation": "", "url": "", "sha256": ""}],
            "skipped": [], "metric_info": metric_info, "metrics": metrics}


def sample(suite: str, item: str, scores: dict[str, float], group: dict[str, str] | None = None,
           response: str = "an answer", prompt: str = "a question",
           data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A samples.jsonl record with one generation request."""
    return {"suite": suite, "id": item, "group": dict(group or {}), "data": dict(data or {}),
            "requests": [{"kind": "generate_until", "args": [prompt, {"max_gen_toks": 32}]}],
            "responses": [response], "scores": scores}


def write_run(reports: Path, run_id: str, suites: dict[str, dict[str, Any]],
              samples: list[dict[str, Any]], energy_kwh: float = 0.0002) -> RunFolder:
    """A complete run folder with the given results suites and samples."""
    folder = RunFolder.create(reports, run_id)
    folder.write_json("run.json", {
        "schema_version": SCHEMA_VERSION, "run_id": run_id, "status": "complete",
        "created": "2026-11-23T09:00:00+00:00", "finished": "2026-11-23T09:01:00+00:00",
        "error": None, "command": f"fm-audit run --run-id {run_id}",
        "config": {"model": MODEL["uri"], "seed": 1234, "profile": "quick", "limit": None,
                   "intended_use": "testing the report"},
        "model": MODEL, "environment": {"python": "3.11", "packages": {"fm-audit": "0.1.0"}},
        "suites": list(suites), "data_sources": {}})
    folder.write_json("results.json", {"schema_version": SCHEMA_VERSION, "run_id": run_id,
                                       "suites": suites})
    folder.write_samples(samples)
    folder.write_json("energy.json", {
        "schema_version": SCHEMA_VERSION, "tool": "codecarbon", "accuracy_note": "estimates",
        "suites": {name: {"energy_kwh": energy_kwh, "cpu_kwh": energy_kwh, "gpu_kwh": 0.0,
                          "ram_kwh": 0.0, "emissions_kg_co2e": energy_kwh * 0.4,
                          "carbon_intensity_g_per_kwh": 400.0, "duration_s": 10.0,
                          "method": {"cpu": "estimated", "gpu": "absent", "ram": "estimated"},
                          "hardware": {"cpu_model": "test cpu", "cpu_count": 2},
                          "country_iso_code": "USA", "n_requests": 10, "n_tokens": 100,
                          "n_correct": None, "wh_per_1000_requests": energy_kwh * 1e5,
                          "wh_per_1000_tokens": energy_kwh * 1e4,
                          "wh_per_correct_answer": None}
                   for name in suites}})
    folder.write_manifest()
    return folder


LANGUAGES = {"eng": "high", "spa": "high", "fra": "high", "cmn": "high", "arb": "high",
             "deu": "high", "hin": "mid", "ind": "mid", "swh": "low", "vie": "mid",
             "ben": "mid", "yor": "low", "hau": "low", "amh": "low", "quy": "low",
             "npi": "low"}
"""16 languages by resource tier, the shape of the multilingual suites."""
MULTILINGUAL_METRICS = [f"ml_metric_{i:02d}" for i in range(14)]
MISUSE_METRICS = ["refusal_a", "refusal_b", "refusal_c"]


def wide_run(reports: Path, run_id: str, shift: int = 0,
             model: dict[str, Any] | None = None) -> RunFolder:
    """A run with 16 languages (4 items each, grouped by language and tier) and 14
    multilingual metrics, plus 3 misuse metrics on the first 6 languages: the shape that
    made a 28-column table. `shift` moves every score, so two runs differ on the same items."""
    multilingual = [sample("multilingual", f"{lang}/{i}",
                           {m: float((i + k + shift) % 3 == 0) for k, m in enumerate(
                               MULTILINGUAL_METRICS)}, {"language": lang, "tier": tier})
                    for lang, tier in LANGUAGES.items() for i in range(4)]
    misuse = [sample("misuse/harmful", f"{lang}/{i}",
                     {m: float((i + shift) % 2) for m in MISUSE_METRICS}, {"language": lang})
              for lang in list(LANGUAGES)[:6] for i in range(4)]
    suites = {
        "multilingual": suite_entry("multilingual", {
            m: info(f"Multilingual metric {m[-2:]}", "accuracy") for m in MULTILINGUAL_METRICS},
            multilingual, ("language",)),
        "misuse/harmful": suite_entry("misuse", {m: info(f"Refusal {m[-1]}", "safety")
                                                 for m in MISUSE_METRICS}, misuse,
                                      ("language",)),
    }
    folder = write_run(reports, run_id, suites, multilingual + misuse)
    if model is not None:
        run = folder.read_json("run.json")
        folder.write_json("run.json", dict(run, model=model))
        folder.write_manifest()
    return folder


# Test doubles installed as suites (FM_AUDIT_SUITES) by the compare tests: a plain suite and one
# whose `statistic` hook recomputes the odds of a hit, so compare's paired bootstrap can be checked.
STATISTIC_SUITE_SPEC = """
family: bias
description: {description}
kind: python
implementation: suite.py:{cls}
metrics:
  hit: {{label: Hit, description: d, formula: f}}
  ratio: {{label: Hit odds, description: d, formula: f, unit: ratio, better: lower}}
"""

STATISTIC_SUITES = '''
from audit.suites.base import Suite


class PlainSuite(Suite):
    """Test double: a suite without a derived-metric hook."""

    def build_samples(self, context):
        return []

    def score(self, samples):
        return None


class OddsSuite(PlainSuite):
    """Test double: odds of a hit among the group's items, for the metric 'ratio' only."""

    def statistic(self, metric, group, samples):
        if metric != "ratio":
            return None
        chosen = [s for s in samples if all(s.group.get(k) == v for k, v in group.items())]
        hits = sum(s.scores["hit"] for s in chosen)
        return hits / (len(chosen) - hits) if len(chosen) > hits else None
'''
