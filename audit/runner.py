"""Run an audit: load the model, run each suite under an energy tracker, write the run folder.

Each suite's samples and energy are written as soon as it finishes, then its results entry,
which commits it; every chunk of model responses goes to the request cache first. `resume`
reopens a run folder under its lock, keeps only committed suites, skips them and replays
cached responses, so nothing finished is computed or recorded twice.
"""

from __future__ import annotations

import logging
import random
import shlex
import sys
from datetime import datetime, timezone
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np

from audit.config import RunConfig
from audit.decision import (
    DECISION,
    draw_decision,
    require_decision_maxima,
    with_decision_intervals,
)
from audit.energy import ACCURACY_NOTE, track_energy
from audit.engine import FastLM
from audit.environment import describe_environment
from audit.errors import AuditError, DatasetError, RunFolderError, UnsupportedRequest
from audit.evidence import graded, screening_run
from audit.execution import ExecutionStats, RequestCache, execute
from audit.judges import judge_record, select_judge
from audit.misuse.data import judge_data
from audit.models.base import LoadedModel
from audit.progress import RunProgress
from audit.registry import load_model
from audit.request_store import SharedRequestStore, numerics_identity
from audit.runfolder import REQUEST_CACHE, SCHEMA_VERSION, RunFolder
from audit.runstart import claimed_run, new_run_id, resumable_run
from audit.suites.base import Sample, Suite, SuiteContext
from audit.suites.discovery import available, select

log = logging.getLogger(__name__)



def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def seed_everything(seed: int) -> None:
    """Fix every random generator a suite or model might touch."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def suite_context(suite: Suite, model: LoadedModel | None, config: RunConfig) -> SuiteContext:
    """What the suite may know of the run; the suite resolves its profile and `--limit`
    against it once (`Suite.budget`)."""
    return SuiteContext(model=model, limit=config.limit, profile=config.profile,
                        seed=config.seed, use_chat_template=config.use_chat_template(),
                        num_fewshot=config.num_fewshot)


def _empty_results(run_id: str) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "run_id": run_id, "suites": {}}


def _empty_energy() -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "tool": "codecarbon",
            "accuracy_note": ACCURACY_NOTE, "suites": {}}


def skipped_suite(suite: Suite, reason: str) -> dict[str, Any]:
    """The results entry of a suite the model cannot run: reported with its reason, no metrics."""
    spec = suite.spec
    return {"family": spec.family, "description": spec.description, "n_samples": 0,
            "limits": spec.limits, "data": suite.data_sources(),
            "skipped": [{"what": f"the whole suite {suite.name}", "reason": reason}],
            "metric_info": {k: v.to_dict() for k, v in spec.metric_info().items()},
            "metrics": []}


def run_suite(suite: Suite, model: LoadedModel, config: RunConfig, cache: RequestCache,
              store: SharedRequestStore | None = None
              ) -> tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]:
    """Run one suite; return its results entry, its energy entry and its sample records.

    A suite whose requests the model backend cannot serve is returned as skipped, with the
    reason, and no energy entry.
    """
    try:
        return _run_suite(suite, model, config, cache, store)
    except UnsupportedRequest as exc:
        log.warning("Skipping suite %s: %s", suite.name, exc.message)
        return skipped_suite(suite, exc.message), None, []


def _run_suite(suite: Suite, model: LoadedModel, config: RunConfig, cache: RequestCache,
               store: SharedRequestStore | None
               ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    context = suite_context(suite, model, config)

    def run(samples: list[Sample]) -> ExecutionStats:
        if not samples and not suite.skipped():
            raise DatasetError(f"suite {suite.name} has no items to run",
                               fix="check its dataset files; an empty dataset cannot be audited.")
        return execute(model.lm, samples, cache, model.tokenizer, label=suite.name,
                       chunk_size=config.checkpoint_every, store=store)

    draw = None
    with track_energy(suite.name, config.country_iso_code) as meter:
        if config.profile == DECISION:
            draw = draw_decision(suite, context, config.precision, config.design, run)
            samples, stats = draw.samples, draw.stats
            metrics = with_decision_intervals(suite.metrics(samples), draw)
        else:
            samples = suite.build_samples(context)
            stats = run(samples)
            suite.score(samples)
            metrics = suite.metrics(samples)
    correct = None
    if suite.spec.correct_metric:
        correct = sum(s.scores.get(suite.spec.correct_metric, 0.0) for s in samples)
    spec = suite.spec
    results = {
        "family": spec.family,
        "description": spec.description,
        "n_samples": len(samples),
        "limit": suite.budget(context).limit,
        "limits": spec.limits,
        "correct_metric": spec.correct_metric,
        "data": suite.data_sources(),
        "skipped": suite.skipped(),
        "selection": suite.selection(),
        "metric_info": {k: v.to_dict() for k, v in spec.metric_info().items()},
        "metrics": graded(metrics, {name: m.unit for name, m in spec.metrics.items()},
                          screening_run(config.profile, config.limit)),
    }
    if draw is not None:
        results["sequential"] = draw.record
    energy = meter.record(stats.n_requests, stats.n_tokens or None, correct)
    energy["n_executed"] = stats.n_executed
    energy["n_from_shared_cache"] = stats.n_from_store
    return results, energy, [s.to_dict(suite.name) for s in samples]


def _start(folder: RunFolder, config: RunConfig, suites: list[Suite], model: LoadedModel
           ) -> None:
    folder.write_json("run.json", {
        "schema_version": SCHEMA_VERSION,
        "run_id": folder.run_id,
        "status": "running",
        "created": _now(),
        "finished": None,
        "error": None,
        "command": shlex.join(["fm-audit", *sys.argv[1:]]),
        "config": config.model_dump(mode="json"),
        "model": model.provenance.to_dict(),
        "environment": describe_environment(),
        "engine": model.lm.describe() if isinstance(model.lm, FastLM) else None,
        "suites": [s.name for s in suites],
        "data_sources": {s.name: s.data_sources() for s in suites},
        "judge": judge_record(judge_data()) if any(s.spec.family == "misuse" for s in suites)
        else None,
    })


def _set_status(folder: RunFolder, status: str, error: str | None = None) -> None:
    run = folder.read_json("run.json")
    run.update(status=status, error=error, finished=_now() if status != "running" else None)
    folder.write_json("run.json", run)


def run_audit(config: RunConfig, model: LoadedModel | None = None) -> RunFolder:
    """Run a new audit as configured and return its (complete) run folder.

    The run folder is created and locked before the model loads (see `audit.runstart`).
    `model`, when given, is used instead of loading `config.model` (it must be that model).
    """
    config = config.model_copy(update={"run_id": config.run_id or new_run_id(config.model)})
    suites = select(config.suites or sorted(available()))
    if config.profile == DECISION:
        require_decision_maxima(suites)
    with claimed_run(config) as folder:
        select_judge(config.judge, judge_data())
        seed_everything(config.seed)
        if model is None:
            model = load_model(config.model, config.load_options())
        _start(folder, config, suites, model)
        return _run(folder, config, suites, model)


def resume_audit(run: str, reports_dir: Path, flags: dict[str, Any] | None = None,
                 model: LoadedModel | None = None) -> RunFolder:
    """Continue an interrupted run with its recorded configuration.

    `flags` that differ from that configuration are refused, and a second process resuming
    the run is told so at once (see `audit.runstart.resumable_run`). A complete run whose
    manifest was never written (killed while finishing) gets it now.
    """
    with resumable_run(run, reports_dir, flags) as (folder, recorded, config):
        if recorded["status"] == "complete":
            log.warning("Run %s is complete but its manifest was never written (killed while "
                        "finishing); writing it now", folder.run_id)
            folder.write_manifest()
            return folder
        suites = select(recorded["suites"])
        select_judge(config.judge, judge_data())
        seed_everything(config.seed)
        if model is None:
            model = load_model(config.model, config.load_options())
        changed = _changed_files(recorded["model"]["files"], model.provenance.files)
        if changed:
            raise RunFolderError(
                f"the weights of {config.model} changed since run {folder.run_id}: "
                f"{', '.join(changed)}",
                fix="start a new run; a resumed run must use identical weights.")
        _warn_if_numerics_changed(recorded.get("engine"), model, folder.run_id)
        _set_status(folder, "running")
        return _run(folder, config, suites, model)


def _changed_files(recorded: list[dict[str, str]], loaded: list[dict[str, str]]) -> list[str]:
    """The weight files, in recorded order, whose sha256 differs now, or that are gone or
    new, each named by its role (else its file name)."""
    return [(before or now).get("role") or Path((before or now)["path"]).name
            for before, now in zip_longest(recorded, loaded, fillvalue={})
            if before.get("sha256") != now.get("sha256")]


def _warn_if_numerics_changed(recorded: dict[str, Any] | None, model: LoadedModel,
                              run_id: str) -> None:
    """Say so when the engine that continues a run computes differently from the one that
    began it: answers already computed are kept, so the run mixes the two."""
    recorded = recorded or {}
    engine = model.lm.describe() if isinstance(model.lm, FastLM) else {}
    # The version, and the full identity (with the CPU thread count) where the run recorded it.
    changed = [key for key in ("numerics_version", "numerics")
               if key in recorded and recorded[key] != engine.get(key)]
    if changed or bool(recorded) != bool(engine):
        key = changed[0] if changed else "numerics_version"
        before, now = recorded.get(key), engine.get(key)
        log.warning("Run %s began with engine numerics %s and continues with %s: answers "
                    "already computed are kept, new ones may differ from them by ~1e-5; start "
                    "a new run for numbers from one engine", run_id,
                    before or "(not recorded)", now or "(not fm-audit's engine)")


def shared_store(config: RunConfig, model: LoadedModel) -> SharedRequestStore | None:
    """The cross-run request cache, unless disabled or the weights are not hashed."""
    if not config.request_cache:
        return None
    identity = numerics_identity(model.provenance)
    if identity is None:
        log.info("Cross-run request cache not used: %s has no hashed weight files",
                 config.model)
        return None
    return SharedRequestStore(identity)


def _committed(folder: RunFolder) -> tuple[dict[str, Any], dict[str, Any],
                                             list[dict[str, Any]]]:
    """The results, energy and sample records of the suites this run has finished.

    A suite is finished once its entry is in results.json, the file written last for it;
    samples and energy of a suite the run was killed before committing are dropped here, so
    a resume writes each suite's records exactly once.
    """
    results = folder.read_json("results.json") if folder.has("results.json") \
        else _empty_results(folder.run_id)
    energy = folder.read_json("energy.json") if folder.has("energy.json") else _empty_energy()
    done = set(results["suites"])
    energy["suites"] = {name: e for name, e in energy["suites"].items() if name in done}
    records = list(folder.iter_samples())
    samples = [r for r in records if r["suite"] in done]
    if len(samples) < len(records):
        log.info("Dropping %d sample record(s) of unfinished suites; they are rebuilt",
                 len(records) - len(samples))
    return results, energy, samples


def _run(folder: RunFolder, config: RunConfig, suites: list[Suite], model: LoadedModel
         ) -> RunFolder:
    store = None
    try:
        results, energy, samples = _committed(folder)
        cache = RequestCache(folder.path / REQUEST_CACHE, model.provenance.fingerprint)
        store = shared_store(config, model)
        progress = RunProgress(len(suites))
        for suite in suites:
            if suite.name in results["suites"]:
                progress.suite_skipped(suite.name, "already complete in this run")
                continue
            log.debug("Running suite %s", suite.name)
            progress.suite_started()
            suite_results, suite_energy, records = run_suite(suite, model, config, cache, store)
            progress.suite_finished(suite.name, suite_results["n_samples"],
                                    "skipped: the model cannot serve its requests"
                                    if suite_energy is None else "")
            samples.extend(records)
            results["suites"][suite.name] = suite_results
            if suite_energy is not None:
                energy["suites"][suite.name] = suite_energy
            folder.write_samples(samples)
            folder.write_json("energy.json", energy)
            folder.write_json("results.json", results)
    except KeyboardInterrupt:
        _set_status(folder, "failed", "interrupted by the user; continue with --resume")
        raise
    except AuditError as exc:
        _set_status(folder, "failed", str(exc))
        raise
    except Exception as exc:
        _set_status(folder, "failed", f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if store is not None:
            store.close()
    _set_status(folder, "complete")
    folder.write_manifest()
    return folder
