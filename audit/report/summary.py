"""A short plain-text summary of a run, for the terminal."""

from __future__ import annotations

from typing import Any

from audit.evidence import SCREENING_LABEL, screening_config
from audit.formatting import format_value
from audit.runfolder import RunFolder


def quantity(value: float | None) -> str:
    """A measured quantity with three significant figures, never in scientific notation for
    the magnitudes a report shows ('n/a' when absent)."""
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) >= 0.001 or value == 0 else f"{value:.1e}"


def difference_text(value: float | None, unit: str) -> str:
    """A signed difference: percentage points for proportions, else the unit's number."""
    if value is None:
        return "n/a"
    return f"{100 * value:+.1f} pts" if unit == "proportion" else f"{value:+.3g}"


def direction_text(better: str, target: float | None, unit: str) -> str:
    """Which way is better: 'higher', 'lower', or 'target 50.0%'."""
    if better == "target" and target is not None:
        return f"target {format_value(target, unit)}"
    return better


def screening_banner(run: dict[str, Any]) -> str | None:
    """The warning every page shows for a quick-profile or `--limit` run (its run.json), else
    None: such a run is a screening, not evidence to decide on."""
    config = run.get("config") or {}
    if not screening_config(config):
        return None
    how = "a --limit" if config.get("limit") is not None else "the quick profile"
    return (f"{SCREENING_LABEL.upper()}: this run used {how}, a small sample of "
            "each suite; rerun with --profile standard and no --limit for evidence to decide "
            "on.")


def headline_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, int]]:
    """(suite, metric label, value, 95% CI, n) for every metric's overall (ungrouped) value."""
    rows = []
    for suite, entry in results["suites"].items():
        info = entry["metric_info"]
        for metric in entry["metrics"]:
            if metric["group"]:
                continue
            meta = info.get(metric["metric"], {})
            unit = meta.get("unit", "")
            low, high = metric["ci_low"], metric["ci_high"]
            ci = (f"[{format_value(low, unit)}, {format_value(high, unit)}]"
                  if low is not None else "")
            rows.append((suite, meta.get("label", metric["metric"]),
                         format_value(metric["value"], unit), ci, metric["n"]))
    return rows


def skipped_lines(results: dict[str, Any]) -> list[str]:
    """One line per part of a suite that did not run, with its reason (never hidden)."""
    return [f"  skipped: {suite} / {item['what']}: {item['reason']}"
            for suite, entry in results["suites"].items() for item in entry.get("skipped", [])]


def model_line(model: dict[str, Any]) -> str:
    """The model's URI and what is known of it; unknown facts are left out, not printed as None."""
    known = [f"{model['parameters']:,} parameters" if model.get("parameters") else None,
             model.get("dtype"), model.get("device")]
    details = ", ".join(str(fact) for fact in known if fact)
    return f"{model['uri']} ({details})" if details else str(model["uri"])


def summarise(folder: RunFolder) -> str:
    """Status, model, headline metrics with CIs, and energy of a run."""
    run = folder.read_json("run.json")
    banner = screening_banner(run)
    lines = [banner] if banner else []
    lines += [f"Run {run['run_id']} ({run['status']})", f"  folder: {folder.path}",
             f"  model:  {model_line(run['model'])}"]
    if run.get("error"):
        lines.append(f"  error:  {run['error']}")
    if folder.has("results.json"):
        rows = headline_rows(folder.read_json("results.json"))
        width = max((len(f"{r[0]} / {r[1]}") for r in rows), default=10)
        lines.append("  results (95% CI):")
        for suite, label, value, ci, n in rows:
            lines.append(f"    {f'{suite} / {label}':<{width}}  {value:>7} {ci:<18} n={n}")
        lines.extend(skipped_lines(folder.read_json("results.json")))
    if folder.has("energy.json"):
        energy = folder.read_json("energy.json")
        total = sum(e["energy_kwh"] for e in energy["suites"].values()) * 1000
        methods = {f"{k}: {v}" for e in energy["suites"].values() for k, v in e["method"].items()}
        lines.append(f"  energy: {total:.3f} Wh in total ({', '.join(sorted(methods))}; "
                     "CodeCarbon, may be off by up to ~40%)")
    return "\n".join(lines)
