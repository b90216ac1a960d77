"""Write benchmark results as JSON and as a Markdown table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _row(entry: dict[str, Any], backend: str) -> str:
    data = entry[backend]
    return (f"| {entry['workload']} | {backend} | {entry['n_requests']} | "
            f"{data['median_seconds']:.1f} | {data['requests_per_s']:.2f} | "
            f"{data['tokens_per_s']:.0f} | {data['peak_rss_mib']:.0f} |")


def _peak_sentence(results: dict[str, Any]) -> str:
    peak = results["matmul_peak"]
    entry = next(e for e in results["workloads"] if "useful_flops" in e)
    work = entry["useful_flops"]
    rates = "; ".join(f"{backend} {entry[backend]['useful_flops_per_s'] / 1e9:.1f} GFLOP/s, "
                      f"{100 * entry[backend]['fraction_of_peak']:.0f}% of peak "
                      f"({100 * entry[backend]['fraction_of_peak_best_round']:.0f}% in its "
                      "fastest round)"
                      for backend in ("engine", "hflm"))
    dtype = peak["before"].get("dtype", "float32")
    where = (f"on {peak['before']['device']}" if peak["before"].get("device", "cpu") != "cpu"
             else f"{peak['before']['threads']} threads")
    return (f"{dtype.capitalize()} matmul peak on the model's weight shapes, {where}, in this "
            f"process: {peak['flops_per_s'] / 1e9:.1f} GFLOP/s (best of "
            f"{peak['before']['flops_per_s'] / 1e9:.1f} before and "
            f"{peak['after']['flops_per_s'] / 1e9:.1f} after the workloads). Useful work of "
            f"the {entry['workload']} workload (each distinct context once, no padding): "
            f"{work['total'] / 1e9:.1f} GFLOP ({work['linear'] / 1e9:.1f} linear layers, "
            f"{work['attention'] / 1e9:.2f} attention, {work['output_projection'] / 1e9:.1f} "
            f"output projection; {work['tokens']:.0f} tokens fed, "
            f"{work['scored_positions']:.0f} positions scored). At the median times: {rates}.")


def markdown(results: dict[str, Any]) -> str:
    """The results as a readable Markdown page."""
    machine = results["machine"]
    lines = [
        f"# Engine vs lm-eval HFLM: {results['model']} on {results['device']} "
        f"({results['dtype']})", "",
        f"Machine: {machine['cpu']}, {machine['usable_cpus']} usable CPUs, "
        f"{machine['torch_threads']} torch threads, {machine['memory_gib']:.0f} GiB RAM, "
        f"GPU: {machine['gpu'] or 'none'}; load average {machine['load_average_before']:.1f} "
        f"before and {machine['load_average_now']:.1f} after (the machine is shared). "
        f"{machine['platform']}, torch {machine['versions']['torch']}, transformers "
        f"{machine['versions']['transformers']}, lm-eval {machine['versions']['lm-eval']}; "
        f"{machine['date']}.", "",
        f"Engine settings: {results['engine_settings']}; log-likelihood path: "
        f"{results.get('engine_loglikelihood_path', 'not recorded')}; HFLM batch size "
        f"{results['hflm_batch_size']}. Medians over alternating A/B rounds in one process; "
        "peak RSS is the process's (both backends share the loaded model).", "",
        "| workload | backend | requests | median s | requests/s | tokens/s | peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in results["workloads"]:
        lines += [_row(entry, "engine"), _row(entry, "hflm")]
    lines += ["", "| workload | speed-up (median) | per round | fastest rounds | "
              "CPU seconds HFLM/engine | agreement with HFLM |", "|---|---|---|---|---|---|"]
    for entry in results["workloads"]:
        rounds = ", ".join(f"{r:.2f}" for r in entry["speedup_per_round"])
        agree = {k: v for k, v in entry["agreement"].items() if not k.startswith("scores")}
        lines.append(f"| {entry['workload']} | {entry['speedup_median']:.2f}x | {rounds} | "
                     f"{entry['speedup_best_round']:.2f}x | "
                     f"{entry['cpu_seconds_ratio_median']:.2f}x | {agree} |")
        if "scores_engine" in entry["agreement"]:
            lines.append(f"| | scores engine | | | | {entry['agreement']['scores_engine']} |")
            lines.append(f"| | scores HFLM | | | | {entry['agreement']['scores_hflm']} |")
    if "matmul_peak" in results:
        lines += ["", _peak_sentence(results)]
    if "square_product_peak_flops_per_s" in results:
        lines += ["", "One 8192x8192x8192 product in the same dtype on the same device: "
                  f"{results['square_product_peak_flops_per_s'] / 1e12:.0f} TFLOP/s (the "
                  "ceiling without the model's small shapes)."]
    if "batch_invariance" in results:
        check = results["batch_invariance"]
        lines += ["", f"Batch invariance: served in batches of at most {check['rows']} rows "
                  f"instead of the engine's own, {check['differing']} of {check['n']} "
                  "log-likelihoods differ bit for bit (largest difference "
                  f"{check['max_abs_difference']:.3g})."]
    if "make_audit_seconds" in results:
        audit = results["make_audit_seconds"]
        lines += ["", "`make audit` default profile (subprocess, includes model load): "
                  f"{audit['cold_no_cache']:.1f} s cold with --no-cache, "
                  f"{audit['warm_shared_cache']:.1f} s rerun from the shared request cache."]
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """`<device>-smollm2.json` and `.md` in `directory`; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{results['device']}-smollm2"
    json_path, md_path = directory / f"{stem}.json", directory / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path
