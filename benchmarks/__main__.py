"""`python -m benchmarks` (`make bench`): fm-audit's engine against lm-eval's stock HFLM.

Both backends serve the same loaded SmolLM2 in the same process on exactly the same requests;
the order alternates every round (A/B, B/A, ...) so that drift in machine load does not favour
one side. The machine's float32 matmul peak on the model's own shapes is measured in the same
process before and after, and the log-likelihood workload's useful work (`flops`) gives each
backend's useful FLOP/s and its fraction of that peak. Then the wall time of `make audit`'s
default profile is measured in a subprocess, cold (--no-cache) and warm (a rerun answered by
the shared request cache). Results are written as JSON and as a Markdown table under
benchmarks/results/.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from benchmarks.flops import (
    GPU_PEAK_ROWS,
    PEAK_ROWS,
    matmul_peak,
    square_peak,
    token_pairs,
    useful_flops,
)
from benchmarks.machine import describe_machine
from benchmarks.measure import agreement, run_trial
from benchmarks.report import write_results
from benchmarks.workloads import (
    Workload,
    export_workloads,
    generation_workload,
    load_workloads,
    loglikelihood_workload,
    suite_generation_workload,
)

log = logging.getLogger("benchmarks")

MODEL = "packaged:smollm2-135m-instruct"
ROOT = Path(__file__).resolve().parent.parent
HFLM_CPU_BATCH_SIZE = 16  # what fm-audit passed to HFLM on CPU before its own engine
# The engine's own row cap on a GPU. A fixed size: with "auto", HFLM probes the largest batch
# again at every call, which cost it over 70% of its time on an H200.
HFLM_GPU_BATCH_SIZE = 256
PROMPTS_NAME = "benchmarks/prompts.yaml"


def _throughput(workload: Any, trials: list[Any], extra_tokens: int) -> dict[str, Any]:
    seconds = [t.seconds for t in trials]
    median = statistics.median(seconds)
    n = len(workload.instances)
    cpu = [t.cpu_seconds for t in trials]
    return {"seconds": seconds, "median_seconds": median, "best_seconds": min(seconds),
            "cpu_seconds": cpu, "median_cpu_seconds": statistics.median(cpu),
            "requests_per_s": n / median,
            "tokens_per_s": (workload.input_tokens + extra_tokens) / median,
            "peak_rss_mib": max(t.peak_rss_bytes for t in trials) / 2**20}


def compare(workload: Any, engine: Any, stock: Any, rounds: int, tokenizer: Any
            ) -> dict[str, Any]:
    """Alternating timed passes of both backends; throughput, ratio and agreement."""
    trials: dict[str, list[Any]] = {"engine": [], "hflm": []}
    for round_index in range(rounds):
        order = [("engine", engine), ("hflm", stock)]
        for name, lm in (order if round_index % 2 == 0 else order[::-1]):
            trial = run_trial(name, lm, workload)
            trials[name].append(trial)
            log.info("%s round %d %s: %.1f s", workload.name, round_index + 1, name,
                     trial.seconds)
    generated = 0
    if workload.kind == "generate_until":
        generated = sum(len(tokenizer(text, add_special_tokens=False)["input_ids"])
                        for text in trials["engine"][0].responses)
    result = {name: _throughput(workload, runs, generated) for name, runs in trials.items()}
    paired = [h.seconds / e.seconds for e, h in zip(trials["engine"], trials["hflm"],
                                                      strict=True)]
    return {"workload": workload.name, "suites": sorted(workload.suites) or ["prompts.yaml"],
            "n_requests": len(workload.instances), "input_tokens": workload.input_tokens,
            "generated_tokens": generated or None, "rounds": rounds, **result,
            "speedup_median": result["hflm"]["median_seconds"]
            / result["engine"]["median_seconds"],
            "speedup_per_round": paired,
            "speedup_best_round": result["hflm"]["best_seconds"]
            / result["engine"]["best_seconds"],
            "cpu_seconds_ratio_median": result["hflm"]["median_cpu_seconds"]
            / result["engine"]["median_cpu_seconds"],
            "agreement": agreement(workload, trials["engine"][0].responses,
                                   trials["hflm"][0].responses)}


def add_peak_fraction(entry: dict[str, Any], work: dict[str, float], peak: float) -> None:
    """Each backend's useful FLOP/s on the workload and its fraction of `peak`: at the median
    time, and at the fastest round (on a shared machine, the round least slowed by others)."""
    entry["useful_flops"] = work
    for backend in ("engine", "hflm"):
        rate = work["total"] / entry[backend]["median_seconds"]
        entry[backend]["useful_flops_per_s"] = rate
        entry[backend]["fraction_of_peak"] = rate / peak
        entry[backend]["fraction_of_peak_best_round"] = (
            work["total"] / entry[backend]["best_seconds"] / peak)


def batch_invariance(engine: Any, workload: Workload, responses: list[Any],
                     rows: int = 7) -> dict[str, Any]:
    """How many of the engine's log-likelihoods change, bit for bit, when the same requests
    are served in batches of at most `rows` sequences instead of the engine's own."""
    from audit.engine import EngineSettings, FastLM

    settings = EngineSettings(max_rows=rows, token_budget=engine.settings.token_budget)
    small = FastLM(engine.model, engine.tokenizer, settings)
    again = [r for call in workload.calls for r in small.loglikelihood(call, disable_tqdm=True)]
    differing = [abs(a[0] - b[0]) for a, b in zip(responses, again, strict=True) if a != b]
    return {"rows": rows, "n": len(again), "differing": len(differing),
            "max_abs_difference": max(differing, default=0.0)}


def audit_wall_time() -> dict[str, float]:
    """Seconds for `fm-audit run --profile quick` (make audit's default) in a subprocess:
    cold with --no-cache, then warm (the second of two runs sharing the request cache)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as out:
        base = [sys.executable, "-m", "audit.cli", "run", "--model", MODEL, "--profile",
                "quick", "--out", out]
        for label, extra in (("cold_no_cache", ["--no-cache"]), ("populate", []),
                             ("warm_shared_cache", [])):
            start = time.perf_counter()
            subprocess.run(base + extra, cwd=ROOT, env=env, check=True, capture_output=True)
            timings[label] = time.perf_counter() - start
            log.info("make audit (%s): %.1f s", label, timings[label])
    del timings["populate"]
    return timings


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its results (or, with --export-requests, only write its
    requests for another machine)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds per workload")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--limit", type=int,
                        help="log-likelihood workload: the first N items of each capability "
                             "suite (default: the quick profile's items)")
    parser.add_argument("--export-requests", type=Path, metavar="FILE",
                        help="write the workloads' requests to FILE (.json.gz) and stop")
    parser.add_argument("--requests", type=Path, metavar="FILE",
                        help="time the requests of a file --export-requests wrote instead of "
                             "building them from the suites (no suite data needed)")
    parser.add_argument("--generation-suites", nargs="+", metavar="SUITE",
                        help="also time the generation requests of these suites at the "
                             "decision profile (e.g. misuse/harmful multilingual/translation)")
    parser.add_argument("--generation-limit", type=int,
                        help="with --generation-suites: the first N items of each suite")
    parser.add_argument("--skip-audit", action="store_true",
                        help="skip the make-audit wall-time measurement")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("lm_eval", "transformers", "codecarbon"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    from lm_eval.models.huggingface import HFLM

    from audit.models.base import LoadOptions
    from audit.registry import load_model

    machine_before = describe_machine()
    model = load_model(MODEL, LoadOptions(device="cpu" if args.export_requests else args.device))
    if args.requests:
        workloads, source = load_workloads(args.requests, model)
    else:
        workloads = [loglikelihood_workload(model, limit=args.limit), generation_workload(model)]
        source = {"model": MODEL, "limit": args.limit, "profile": "quick",
                  "prompts": PROMPTS_NAME}
        if args.generation_suites:
            workloads.append(suite_generation_workload(model, args.generation_suites,
                                                       args.generation_limit))
            source |= {"generation_suites": args.generation_suites,
                       "generation_limit": args.generation_limit,
                       "generation_profile": "decision"}
    if args.export_requests:
        export_workloads(workloads, args.export_requests, source)
        log.info("Wrote the requests of %s to %s", [w.name for w in workloads],
                 args.export_requests)
        return 0
    engine = model.lm
    stock = HFLM(pretrained=engine.model, tokenizer=model.tokenizer, device=args.device,
                 batch_size=HFLM_CPU_BATCH_SIZE if args.device == "cpu" else HFLM_GPU_BATCH_SIZE)
    results: dict[str, Any] = {
        "model": MODEL, "dtype": model.provenance.dtype, "device": args.device,
        "requests": source, "engine_settings": asdict(engine.settings),
        "engine_loglikelihood_path": engine.scorer.description,
        "hflm_batch_size": stock.batch_size, "workloads": []}
    peak_rows = GPU_PEAK_ROWS if args.device == "cuda" else PEAK_ROWS
    peaks = [matmul_peak(engine.model, peak_rows)]
    log.info("%s matmul peak: %.1f GFLOP/s", peaks[0]["dtype"], peaks[0]["flops_per_s"] / 1e9)
    for workload in workloads:
        results["workloads"].append(compare(workload, engine, stock, args.rounds,
                                            model.tokenizer))
    peaks.append(matmul_peak(engine.model, peak_rows))
    peak = max(p["flops_per_s"] for p in peaks)
    results["matmul_peak"] = {"flops_per_s": peak, "before": peaks[0], "after": peaks[1]}
    loglikelihood = next(i for i, w in enumerate(workloads) if w.kind == "loglikelihood")
    add_peak_fraction(results["workloads"][loglikelihood],
                      useful_flops(engine.model, token_pairs(engine, workloads[loglikelihood])),
                      peak)
    if args.device == "cuda":
        parameter = next(engine.model.parameters())
        results["square_product_peak_flops_per_s"] = square_peak(parameter.device,
                                                                 parameter.dtype)
        trial = run_trial("engine", engine, workloads[loglikelihood])
        results["batch_invariance"] = batch_invariance(engine, workloads[loglikelihood],
                                                       trial.responses)
        results["gpu_memory_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    if not args.skip_audit:
        results["make_audit_seconds"] = audit_wall_time()
    results["machine"] = dict(describe_machine(), load_average_before=machine_before[
        "load_average_now"])
    json_path, md_path = write_results(results, args.out)
    log.info("Wrote %s and %s", json_path, md_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
