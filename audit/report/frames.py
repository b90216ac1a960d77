"""A run folder as pandas DataFrames: metrics, samples and energy, ready to chart and filter.

The dashboard (and any other viewer) reads run folders through this module only, so the
run-folder format has one reader. A run's fingerprint (size and modification time of each of
its files) changes whenever the engine rewrites a file, so it is a cheap, correct cache key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from audit.errors import RunFolderError
from audit.formatting import group_label
from audit.policy import load_policy
from audit.redaction import hidden_in_reports
from audit.report.build import build_report, energy_section, language_label, signoff_entries
from audit.report.compare import deltas_frame
from audit.report.model import ChangeSummary, EnergySection, SignOffEntry
from audit.report.safety_parity import parity_frames, safety_parity
from audit.runfolder import MANIFESTED, RunFolder, check_evidence, list_runs

log = logging.getLogger(__name__)

RUN_FILES = (*MANIFESTED, "manifest.json")
SCORE_PREFIX = "score:"
GROUP_PREFIX = "group:"
COMPONENTS = ("cpu", "gpu", "ram")
OVERALL = group_label({})  # the `group` text of a metric's value over all items

METRIC_COLUMNS = ["run_id", "model", "suite", "family", "metric", "label", "description",
                  "unit", "better", "target", "metric_family", "value", "n", "stderr", "ci_low",
                  "ci_high", "ci_method", "group", "group_dim", "group_value"]
ENERGY_COLUMNS = ["run_id", "model", "suite", "energy_wh", "cpu_wh", "gpu_wh", "ram_wh",
                  "emissions_g", "duration_s", "carbon_intensity_g_per_kwh", "country",
                  "method_cpu", "method_gpu", "method_ram", "method", "n_requests", "n_tokens",
                  "n_correct", "wh_per_1000_requests", "wh_per_1000_tokens",
                  "wh_per_correct_answer", "hardware"]


@dataclass
class RunData:
    """One run folder, loaded: its documents and the three frames every view needs."""

    run_id: str
    path: str
    status: str
    model: str
    created: str
    run: dict[str, Any]
    results: dict[str, Any]
    energy_doc: dict[str, Any]
    metrics: pd.DataFrame
    samples: pd.DataFrame
    energy: pd.DataFrame
    fingerprint: str = ""
    problems: list[str] = field(default_factory=list)
    evidence_warning: str = ""
    """Empty when the folder matches its manifest; else what `check_evidence` found."""

    @property
    def label(self) -> str:
        """How a run is named in pickers and legends: its id and its model."""
        return f"{self.run_id} · {self.model}"

    def suites(self, family: str | None = None) -> list[str]:
        """Suite names of this run, optionally only those of one family."""
        return [name for name, entry in self.results.get("suites", {}).items()
                if family is None or entry.get("family") == family]

    def metric_info(self, suite: str) -> dict[str, dict[str, Any]]:
        """The per-metric display metadata a suite declared (label, unit, better, ...)."""
        return self.results.get("suites", {}).get(suite, {}).get("metric_info", {})


def run_fingerprint(path: Path | str) -> str:
    """A hash of the name, size and modification time of each file of a run folder."""
    digest = hashlib.sha256()
    for name in RUN_FILES:
        try:
            stat = (Path(path) / name).stat()
        except FileNotFoundError:
            continue
        digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def group_dimension(group: dict[str, str]) -> tuple[str | None, str | None]:
    """The one dimension a group breaks a metric down by, and its value: the single key of a
    one-key group, or the language of a {language, tier} group (the tier is the language's
    own, so the language alone names the group); (None, None) for other combinations."""
    if len(group) == 1:
        return next(iter(group.items()))
    if "language" in group and set(group) <= {"language", "tier"}:
        return "language", group["language"]
    return None, None


def metrics_frame(results: dict[str, Any], run_id: str, model: str) -> pd.DataFrame:
    """One row per measured value (overall and per group), with the metric's display metadata."""
    rows = []
    for suite, entry in results.get("suites", {}).items():
        info = entry.get("metric_info", {})
        for metric in entry.get("metrics", []):
            meta = info.get(metric["metric"], {})
            group = dict(metric.get("group") or {})
            single = group_dimension(group)
            rows.append({
                "run_id": run_id, "model": model, "suite": suite,
                "family": entry.get("family", ""), "metric": metric["metric"],
                "label": meta.get("label") or metric["metric"],
                "description": meta.get("description", ""), "unit": meta.get("unit", ""),
                "better": meta.get("better", ""), "target": meta.get("target"),
                "metric_family": meta.get("family", ""), "value": metric["value"],
                "n": metric["n"], "stderr": metric["stderr"], "ci_low": metric["ci_low"],
                "ci_high": metric["ci_high"], "ci_method": metric["ci_method"],
                "group": group_label(group), "group_dim": single[0], "group_value": single[1],
            })
    frame = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    for column in ("value", "stderr", "ci_low", "ci_high", "target"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def prompt_text(record: dict[str, Any]) -> str:
    """The prompt of a sample: the distinct contexts of its requests, in order."""
    contexts: list[str] = []
    for request in record.get("requests", []):
        args = request.get("args") or [""]
        text = _as_text(args[0])
        if text not in contexts:
            contexts.append(text)
    return "\n---\n".join(contexts)


def response_text(record: dict[str, Any]) -> str:
    """The model's output as text: generations verbatim; for scored continuations (multiple
    choice), each option with its log-likelihood, the most likely one marked."""
    requests = record.get("requests", [])
    responses = record.get("responses") or []
    kinds = {r.get("kind") for r in requests}
    if kinds == {"loglikelihood"} and len(responses) == len(requests):
        scores = [r[0] if isinstance(r, list) and r else r for r in responses]
        numeric = [s for s in scores if isinstance(s, (int, float))]
        best = max(numeric) if numeric else None
        lines = []
        for request, score in zip(requests, scores, strict=True):
            continuation = _as_text(request["args"][1]) if len(request["args"]) > 1 else ""
            mark = "  <- most likely" if best is not None and score == best else ""
            value = f"{score:.3f}" if isinstance(score, (int, float)) else _as_text(score)
            lines.append(f"{continuation.strip()!s}  (log-likelihood {value}){mark}")
        return "\n".join(lines)
    return "\n---\n".join(_as_text(r) for r in responses)


def samples_frame(records: list[dict[str, Any]], results: dict[str, Any],
                  run_id: str) -> pd.DataFrame:
    """One row per sample: suite, id, group columns, prompt, output text, whether the output
    must stay hidden until revealed (`audit.redaction`),
    whether it was answered correctly (when its suite names a correctness score) and every
    per-sample score as a `score:<name>` column."""
    suites = results.get("suites", {})
    rows = []
    for record in records:
        suite = record.get("suite", "")
        entry = suites.get(suite, {})
        scores = record.get("scores") or {}
        correct_metric = entry.get("correct_metric")
        correct = scores.get(correct_metric) if correct_metric else None
        data = record.get("data") or {}
        row = {"run_id": run_id, "suite": suite, "family": entry.get("family", ""),
               "id": str(record.get("id", "")), "prompt": prompt_text(record),
               "output": response_text(record),
               "redact": hidden_in_reports(record, entry.get("family", "")),
               "correct": None if correct is None else bool(correct >= 0.5),
               "requests": record.get("requests", []), "responses": record.get("responses"),
               "data": data}
        for key, value in (record.get("group") or {}).items():
            row[GROUP_PREFIX + key] = str(value)
        for key, value in scores.items():
            row[SCORE_PREFIX + key] = value
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else
                        ["run_id", "suite", "family", "id", "prompt", "output", "redact",
                         "correct", "requests", "responses", "data"])


def _overall_method(methods: dict[str, str]) -> str:
    used = {m for m in methods.values() if m != "absent"}
    if used == {"measured"}:
        return "measured"
    if used == {"estimated"}:
        return "estimated"
    return "mixed (measured and estimated)" if used else "absent"


def energy_frame(energy: dict[str, Any], run_id: str, model: str) -> pd.DataFrame:
    """One row per suite: energy in Wh (total and per component), emissions, the method of
    each component (measured / estimated / absent) and the normalised figures."""
    rows = []
    for suite, entry in energy.get("suites", {}).items():
        methods = entry.get("method", {})
        row = {"run_id": run_id, "model": model, "suite": suite,
               "energy_wh": 1000 * entry["energy_kwh"],
               "emissions_g": 1000 * entry["emissions_kg_co2e"],
               "duration_s": entry["duration_s"],
               "carbon_intensity_g_per_kwh": entry.get("carbon_intensity_g_per_kwh"),
               "country": entry.get("country_iso_code", ""),
               "method": _overall_method(methods), "n_requests": entry["n_requests"],
               "n_tokens": entry.get("n_tokens"), "n_correct": entry.get("n_correct"),
               "wh_per_1000_requests": entry.get("wh_per_1000_requests"),
               "wh_per_1000_tokens": entry.get("wh_per_1000_tokens"),
               "wh_per_correct_answer": entry.get("wh_per_correct_answer"),
               "hardware": entry.get("hardware", {})}
        for component in COMPONENTS:
            kwh = entry.get(f"{component}_kwh")
            row[f"{component}_wh"] = None if kwh is None else 1000 * kwh
            row[f"method_{component}"] = methods.get(component, "absent")
        rows.append(row)
    return pd.DataFrame(rows, columns=ENERGY_COLUMNS)


def load_run(path: Path | str) -> RunData:
    """Read a run folder (validated against its schemas) into a `RunData`.

    A run still running or failed may lack results, samples or energy: those frames are then
    empty and `problems` says why. A malformed file raises `RunFolderError`.
    """
    folder = RunFolder(Path(path))
    run = folder.read_json("run.json")
    problems: list[str] = []
    if run.get("status") != "complete":
        problems.append(f"status is {run.get('status')!r}"
                        + (f": {run['error']}" if run.get("error") else ""))
    results: dict[str, Any] = {"suites": {}}
    if folder.has("results.json"):
        results = folder.read_json("results.json")
    else:
        problems.append("no results.json yet")
    energy: dict[str, Any] = {"suites": {}}
    if folder.has("energy.json"):
        energy = folder.read_json("energy.json")
    model = str(run.get("model", {}).get("uri", "?"))
    run_id = str(run.get("run_id", folder.run_id))
    return RunData(
        run_id=run_id, path=str(folder.path), status=str(run.get("status", "?")), model=model,
        created=str(run.get("created", "")), run=run, results=results, energy_doc=energy,
        metrics=metrics_frame(results, run_id, model),
        samples=samples_frame(list(folder.iter_samples()), results, run_id),
        energy=energy_frame(energy, run_id, model), fingerprint=run_fingerprint(folder.path),
        problems=problems, evidence_warning=check_evidence(folder).warning())


def find_runs(reports_dir: Path | str) -> list[Path]:
    """Run folders under `reports_dir` (newest first); raises when the directory is absent."""
    root = Path(reports_dir)
    if not root.is_dir():
        raise RunFolderError(f"reports directory {root} does not exist",
                             fix="run an audit first (`fm-audit run`), or pass the directory "
                                 "that holds your run folders: `fm-audit dashboard DIR`.")
    return [folder.path for folder in list_runs(root)]


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of several runs as one (empty frames skipped, columns kept)."""
    non_empty = [f for f in frames if not f.empty]
    if not non_empty:
        return frames[0].iloc[0:0] if frames else pd.DataFrame()
    return pd.concat(non_empty, ignore_index=True)


def run_energy(path: Path | str) -> EnergySection | None:
    """The report's energy block of the run at `path` (per-component ranges, PUE, facility
    energy), so the dashboard states the same figures as the report."""
    return energy_section(RunFolder(Path(path)))


def run_signoffs(path: Path | str) -> list[SignOffEntry]:
    """The sign-offs of the run at `path`, each verified against the folder as it is now (the
    report's own check), so the dashboard shows the same verdict as the report."""
    return signoff_entries(RunFolder(Path(path)))


def run_comparison(paths: list[Path | str], policy: str | None
                   ) -> tuple[pd.DataFrame, ChangeSummary | None]:
    """Every run at `paths` against the first, paired on shared items, as a `deltas_frame`,
    with the comparison report's summary of what changed (verdict flips under `policy`, a
    policy name or file, when given): how the dashboard compares runs without opening their
    folders itself."""
    report = build_report([RunFolder(Path(p)) for p in paths],
                          load_policy(policy) if policy else None, policy)
    return deltas_frame(report.comparison.deltas), report.comparison.summary


def run_safety_parity(baseline: RunData, other: RunData
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cross-lingual safety parity of `other` against `baseline` as the two frames of
    `audit.report.safety_parity.parity_frames` (runs named by their labels, languages by name
    and code): how the dashboard reads the runs' samples without opening their folders."""
    rows = safety_parity(RunFolder(Path(baseline.path)).iter_samples(),
                         RunFolder(Path(other.path)).iter_samples())
    return parity_frames(rows, baseline.label, other.label, language_label)
