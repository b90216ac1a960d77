"""`python -m benchmarks.judge`: responses judged per second by a refusal judge.

Judges every labelled response (all splits, all languages; the first `--limit` of them when
given) with the judge `--judge` names
(default `classifier`; `embedding`, `multilingual-embedding`, `patterns` and `llm:<uri>` work
the same way), one `classify_many` call per batch of `--batch` responses, and also one response
at a time (the `classify` path a caller outside the suites uses), each repeated `--rounds`
times; reports the median rate, the time to build (fit) the judge and the machine (its load
average included). Besides the wall-clock rate it reports responses per second of the
process's CPU time (all its threads): on a machine shared with other jobs the wall-clock rate
depends on their load, the CPU time much less.
Threads are capped at `--threads` (default 2, the target machine). Results are written as
JSON under benchmarks/results/ (`judge-<spec>-cpu.json`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main() -> None:
    """Time fitting and judging; print the rates and write them to benchmarks/results/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--judge", default="classifier")
    parser.add_argument("--limit", type=int, help="judge only the first N labelled responses")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or ROOT / "results" / f"judge-{args.judge.replace(':', '_')}-cpu.json"
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)

    import torch

    from audit.judges import make_judge
    from audit.judges.validation import load_labelled
    from audit.misuse.data import judge_data
    from benchmarks.machine import describe_machine

    start = time.perf_counter()
    data = judge_data()
    torch.set_num_threads(args.threads)
    judge = make_judge(args.judge, data)
    fit_seconds = time.perf_counter() - start
    items = [row.item() for row in load_labelled(data.labelled)][:args.limit]

    def batched() -> None:
        for begin in range(0, len(items), args.batch):
            judge.classify_many(items[begin:begin + args.batch])

    def one_at_a_time() -> None:
        for item in items:
            judge.classify(item.prompt, item.response, item.language)

    rates = {}
    for name, work in (("batched", batched), ("one_at_a_time", one_at_a_time)):
        seconds, cpu_seconds = [], []
        for _ in range(args.rounds):
            start, cpu_start = time.perf_counter(), time.process_time()
            work()
            seconds.append(time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu_start)
        rates[name] = {"seconds": seconds, "cpu_seconds": cpu_seconds, "responses": len(items),
                       "responses_per_s": len(items) / statistics.median(seconds),
                       "responses_per_cpu_s": len(items) / statistics.median(cpu_seconds)}
    result = {"judge": judge.name, "fit_seconds": fit_seconds, "threads": args.threads,
              "batch": args.batch, "rates": rates, "machine": describe_machine()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, rate in rates.items():
        print(f"{name}: {rate['responses_per_s']:.1f} responses/s, "
              f"{rate['responses_per_cpu_s']:.1f} per CPU-second "
              f"({rate['responses']} responses, median of {args.rounds})")
    print(f"fit: {fit_seconds:.2f} s; written to {out}")


if __name__ == "__main__":
    main()
