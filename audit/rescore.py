"""Recompute every metric of a run from its stored responses, without loading the model.

After a better judge or a corrected metric, the responses in `samples.jsonl` are scored again
by each suite's current `score` and `metrics`. The original run folder is evidence and is left
untouched: the result is a new run folder (run.json, energy.json copied; samples.jsonl and
results.json recomputed; a fresh manifest) whose results.json carries a `rescored` block that
records the source run, its results' sha256, and every value that changed. Reports, the
dashboard and `fm-audit compare` read it like any run, so the two can be compared item by item.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from audit import __version__
from audit.decision import rescored_draw, with_decision_intervals
from audit.errors import DatasetError, SuiteError
from audit.evidence import graded, screening_config
from audit.formatting import group_label
from audit.runfolder import SCHEMA_VERSION, RunFolder
from audit.runstart import discard_if_empty
from audit.suites.base import Sample
from audit.suites.discovery import available

log = logging.getLogger(__name__)
TOLERANCE = 1e-12


def _changed(old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    return not math.isclose(old, new, rel_tol=0, abs_tol=TOLERANCE)


def rescore_suite(name: str, entry: dict[str, Any], records: list[dict[str, Any]],
                  screening: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """A suite's new results entry (evidence graded as a `screening` run's when it is one), its
    rescored sample records, and how many items' scores changed."""
    factories = available()
    if name not in factories:
        raise SuiteError(f"suite {name} of this run is not installed here, so it cannot be "
                         "rescored", fix="run `fm-audit rescore` where the suite is available "
                                         "(see `fm-audit suites`).")
    suite = factories[name]()
    samples = [Sample.from_dict(r) for r in records]
    before = [dict(s.scores) for s in samples]
    try:
        suite.score(samples)
        metrics = suite.metrics(samples)
        draw = rescored_draw(entry.get("sequential"), samples)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise DatasetError(
            f"the samples of suite {name} lack what its scorer needs "
            f"({type(exc).__name__}: {exc})",
            fix="rescore a run folder as fm-audit wrote it; a sample edited by hand or "
                "written by another tool cannot be rescored.") from exc
    if draw is not None:
        metrics = with_decision_intervals(metrics, draw)
        entry = dict(entry, sequential=draw.record)
    spec = suite.spec
    new_entry = dict(entry, family=spec.family, description=spec.description,
                     limits=spec.limits,
                     metric_info={k: v.to_dict() for k, v in spec.metric_info().items()},
                     metrics=graded(metrics, {k: m.unit for k, m in spec.metrics.items()},
                                    screening))
    changed_items = sum(old != s.scores for old, s in zip(before, samples, strict=True))
    return new_entry, [s.to_dict(name) for s in samples], changed_items


def value_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Every (suite, metric, group) whose value appeared, disappeared or moved."""
    def table(results: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {(suite, m["metric"], group_label(m["group"])): m
                for suite, entry in results["suites"].items() for m in entry["metrics"]}

    before, after = table(old), table(new)
    changes = []
    for key in sorted(set(before) | set(after)):
        was, now = before.get(key), after.get(key)
        old_value = was["value"] if was else None
        new_value = now["value"] if now else None
        if was is None or now is None or _changed(old_value, new_value):
            changes.append({"suite": key[0], "metric": key[1], "group": key[2],
                            "old": old_value, "new": new_value,
                            "old_n": was["n"] if was else None, "new_n": now["n"] if now else None})
    return changes


def rescore_run(folder: RunFolder, reports_dir: Path, run_id: str | None = None) -> RunFolder:
    """Rescore `folder` into a new run folder under `reports_dir`; return the new folder."""
    run = folder.read_json("run.json")
    old = folder.read_json("results.json")
    records: dict[str, list[dict[str, Any]]] = {}
    for record in folder.iter_samples():
        records.setdefault(record["suite"], []).append(record)
    stamp = datetime.now(timezone.utc)
    target = RunFolder.create(reports_dir, run_id or
                              f"{folder.run_id}-rescored-{stamp:%Y%m%dT%H%M%S}"[:128])
    try:
        return _rescore_into(target, folder, run, old, records, stamp)
    finally:
        discard_if_empty(target)


def _rescore_into(target: RunFolder, folder: RunFolder, run: dict[str, Any],
                  old: dict[str, Any], records: dict[str, list[dict[str, Any]]],
                  stamp: datetime) -> RunFolder:
    new: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "suites": {}}
    samples: list[dict[str, Any]] = []
    changed_items = 0
    for name, entry in old["suites"].items():
        log.info("Rescoring %s (%d samples)", name, len(records.get(name, [])))
        new_entry, new_records, changed = rescore_suite(name, entry, records.get(name, []),
                                                        screening_config(run["config"]))
        new["suites"][name] = new_entry
        samples.extend(new_records)
        changed_items += changed
    changes = value_changes(old, new)
    new.update(run_id=target.run_id, rescored={
        "from_run": folder.run_id, "from_path": str(folder.path),
        "from_results_sha256": folder.sha256("results.json"),
        "at": stamp.isoformat(timespec="seconds"), "fm_audit_version": __version__,
        "items_with_changed_scores": changed_items, "values_changed": len(changes),
        "changes": changes})
    target.write_json("run.json", dict(run, run_id=target.run_id, rescored_from=folder.run_id,
                                       command=f"fm-audit rescore {folder.run_id}"))
    target.write_samples(samples)
    if folder.has("energy.json"):
        target.write_json("energy.json", folder.read_json("energy.json"))
    target.write_json("results.json", new)
    target.write_manifest()
    return target


def describe_changes(results: dict[str, Any]) -> str:
    """The rescored block of a results.json as lines for the terminal."""
    block = results.get("rescored") or {}
    lines = [f"Rescored from run {block.get('from_run')}: "
             f"{block.get('items_with_changed_scores', 0)} item(s) with changed scores, "
             f"{block.get('values_changed', 0)} metric value(s) changed."]
    for change in block.get("changes", [])[:50]:
        lines.append(f"  {change['suite']} {change['metric']} ({change['group']}): "
                     f"{change['old']} -> {change['new']}")
    return "\n".join(lines)
