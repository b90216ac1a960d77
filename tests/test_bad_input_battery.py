"""Bad input battery through the real command line: every case exits with a message (no
traceback) and loses nothing already written; run options are checked before the model code
is even imported.

Each case is (name, how to prepare the reports directory, argv, expected exit code, a phrase
the message must hold). `battery_table` runs them all and gives the table (input, exit
code, message, data lost) that the README's claim rests on.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from audit.cli import main
from tests.handmade_runs import info, sample, suite_entry, write_run

RUNNING_CONFIG = {"model": "packaged:smollm2-135m-instruct", "suites": ["capability/core_mc"],
                  "limit": 4, "device": "cpu", "out": "reports", "run_id": "paused"}


def _complete(reports: Path, run_id: str = "done") -> Path:
    samples = [sample("capability/core_mc", str(i), {"acc": float(i % 2)}) for i in range(6)]
    suites = {"capability/core_mc": suite_entry("capability", {"acc": info("Accuracy",
                                                                           "capability")},
                                                samples)}
    return write_run(reports, run_id, suites, samples).path


def _paused(reports: Path) -> Path:
    """A run killed while running: status running, no results yet."""
    folder = reports / "paused"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({
        "schema_version": 1, "run_id": "paused", "status": "running", "created": "2026",
        "config": RUNNING_CONFIG, "environment": {}, "suites": ["capability/core_mc"],
        "model": {"uri": RUNNING_CONFIG["model"], "scheme": "packaged", "name": "smollm2",
                  "files": []}}))
    return folder


def _edit(path: Path, change: Callable[[str], str]) -> None:
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def _samples_line(run: Path, change: Callable[[dict], dict | str]) -> None:
    lines = (run / "samples.jsonl").read_text().splitlines()
    first = change(json.loads(lines[0]))
    lines[0] = first if isinstance(first, str) else json.dumps(first)
    (run / "samples.jsonl").write_text("\n".join(lines) + "\n")


def _tampered(reports: Path) -> None:
    run = _complete(reports)
    _edit(run / "results.json", lambda text: text.replace('"value": 0.5', '"value": 0.9', 1))


def _no_suite(reports: Path) -> None:
    _samples_line(_complete(reports), lambda r: {k: v for k, v in r.items() if k != "suite"})


@dataclass
class Case:
    name: str
    prepare: Callable[[Path], object]
    argv: list[str]
    code: int
    says: str


def _both(reports: Path) -> None:
    _complete(reports)
    _complete(reports, "other")


def _both_tampered(reports: Path) -> None:
    _tampered(reports)
    _complete(reports, "other")


def _policy(reports: Path) -> None:
    _complete(reports)
    (reports / "broken.yaml").write_text("name: x\nrules: [1, 2\n")


CASES = [
    # run: checked before the model loads
    Case("run: run id with a slash", _complete, ["run", "--run-id", "../x"], 2, "invalid run id"),
    Case("run: run id '..'", _complete, ["run", "--run-id", ".."], 2, "invalid run id"),
    Case("run: run id of a complete run", _complete, ["run", "--run-id", "done"], 2,
         "already exists"),
    Case("run: --out is a file", lambda r: (r / "file").write_text(""),
         ["run", "--out", "{reports}/file/sub"], 2, "cannot create"),
    Case("run: --limit 0", _complete, ["run", "--limit", "0"], 2, "limit"),
    Case("run: --limit -3", _complete, ["run", "--limit", "-3"], 2, "limit"),
    Case("run: --seed -1", _complete, ["run", "--seed", "-1"], 2, "seed"),
    Case("run: --seed 2**40", _complete, ["run", "--seed", str(2**40)], 2, "seed"),
    Case("run: --country ZZZ", _complete, ["run", "--country", "ZZZ"], 2, "unknown country"),
    Case("run: --country FR", _complete, ["run", "--country", "FR"], 2, "country"),
    Case("run: --num-fewshot -1", _complete, ["run", "--num-fewshot", "-1"], 2, "num_fewshot"),
    Case("run: --batch-size 0", _complete, ["run", "--batch-size", "0"], 2, "batch-size"),
    Case("run: --profile huge", _complete, ["run", "--profile", "huge"], 2, "profile"),
    Case("run: --config missing", _complete, ["run", "--config", "{reports}/none.yaml"], 2,
         "none.yaml"),
    Case("run: --config not YAML", lambda r: (r / "c.yaml").write_text("a: [1\n"),
         ["run", "--config", "{reports}/c.yaml"], 2, "not valid YAML"),
    Case("run: --config unknown key", lambda r: (r / "c.yaml").write_text("colour: red\n"),
         ["run", "--config", "{reports}/c.yaml"], 2, "colour"),
    Case("run: unknown suite", _complete, ["run", "--suites", "capability/nosuch"], 2,
         "nosuch"),
    Case("run: unknown model scheme", _complete, ["run", "--model", "nosuch:x"], 2, "nosuch"),
    Case("run: unknown packaged model", _complete, ["run", "--model", "packaged:nope"], 2,
         "nope"),
    # resume
    Case("resume: no such run", _complete, ["run", "--resume", "ghost"], 2, "no run folder"),
    Case("resume: run id with a slash", _complete, ["run", "--resume", "../ghost"], 2,
         "invalid run id"),
    Case("resume: complete run", _complete, ["run", "--resume", "done"], 2,
         "already complete"),
    Case("resume: with --config", _paused, ["run", "--resume", "paused", "--config", "x.yaml"],
         2, "--config cannot be combined"),
    Case("resume: another --model", _paused,
         ["run", "--resume", "paused", "--model", "packaged:gemma3-270m"], 2, "--model"),
    Case("resume: another --limit", _paused, ["run", "--resume", "paused", "--limit", "30"],
         2, "--limit 30"),
    Case("resume: another --suites", _paused, ["run", "--resume", "paused", "--suites", "bias"],
         2, "--suites"),
    Case("resume: another --seed", _paused, ["run", "--resume", "paused", "--seed", "7"], 2,
         "--seed 7"),
    Case("resume: --no-cache on a cached run", _paused,
         ["run", "--resume", "paused", "--no-cache"], 2, "--no-cache"),
    # report
    Case("report: no such run", _complete, ["report", "ghost"], 2, "no run folder"),
    Case("report: --name escapes --out", _complete, ["report", "done", "--name", "../../x"], 2,
         "invalid report name"),
    Case("report: missing policy", _complete, ["report", "done", "--policy", "none.yaml"], 2,
         "none.yaml"),
    Case("report: broken policy", _policy,
         ["report", "done", "--policy", "{reports}/broken.yaml"], 2, "not valid YAML"),
    Case("report: sample without suite", _no_suite, ["report", "done"], 2, "suite"),
    Case("report: sample line not JSON",
         lambda r: _samples_line(_complete(r), lambda _: '{"suite": "x", "id'),
         ["report", "done"], 2, "not valid JSON"),
    Case("report: results.json not JSON",
         lambda r: (_complete(r) / "results.json").write_text("{"), ["report", "done"], 2,
         "not valid JSON"),
    Case("report: newer schema version",
         lambda r: _edit(_complete(r) / "results.json",
                         lambda t: t.replace('"schema_version": 1', '"schema_version": 9', 1)),
         ["report", "done"], 2, "upgrade fm-audit"),
    Case("report: lone surrogate in a response",
         lambda r: _samples_line(_complete(r), lambda x: dict(x, responses=["\ud800 bad"])),
         ["report", "done"], 0, "not verified"),
    Case("report: invalid UTF-8 in samples",
         lambda r: (_complete(r) / "samples.jsonl").open("ab").write(
             b'{"suite": "capability/core_mc", "id": "9", "group": {}, "requests": [], '
             b'"responses": ["\xff\xfe"], "scores": {"acc": 1.0}}\n'),
         ["report", "done"], 0, "not verified"),
    Case("report: tampered run", _tampered, ["report", "done"], 0, "results.json (changed)"),
    # compare
    Case("compare: tampered run", _both_tampered, ["compare", "other", "done"], 2,
         "--allow-modified"),
    Case("compare: tampered run, --allow-modified", _both_tampered,
         ["compare", "other", "done", "--allow-modified"], 0, "results.json (changed)"),
    Case("compare: --baseline out of range", _both, ["compare", "done", "other", "--baseline",
                                                      "5"], 2, "baseline"),
    Case("compare: sample without suite", lambda r: (_no_suite(r), _complete(r, "other")),
         ["compare", "other", "done", "--allow-modified"], 2, "suite"),
    # gate
    Case("gate: tampered run", _tampered, ["gate", "done", "--policy", "example"], 1,
         "results.json (changed)"),
    Case("gate: manifest deleted", lambda r: (_complete(r) / "manifest.json").unlink(),
         ["gate", "done", "--policy", "example"], 1, "manifest.json is missing"),
    Case("gate: missing policy", _complete, ["gate", "done", "--policy", "none.yaml"], 2,
         "none.yaml"),
    # show and rescore
    Case("show: no such run", _complete, ["show", "ghost"], 2, "no run folder"),
    Case("show: tampered run", _tampered, ["show", "done"], 0, "results.json (changed)"),
    Case("rescore: sample without suite", _no_suite, ["rescore", "done"], 2, "suite"),
    Case("rescore: samples lack what the scorer needs", _complete, ["rescore", "done"], 2,
         "lack what its scorer needs"),
    Case("rescore: new run id with a slash", _complete, ["rescore", "done", "--run-id", "../x"],
         2, "invalid run id"),
    Case("rescore: new run id taken", _both, ["rescore", "done", "--run-id", "other"], 2,
         "already exists"),
]


def _argv(case: Case, reports: Path) -> list[str]:
    argv = [part.replace("{reports}", str(reports)) for part in case.argv]
    flag = {"run": "--out", "show": "--out"}.get(argv[0], "--reports")
    if argv[0] == "run" and "--out" in argv:
        return argv
    return argv + [flag, str(reports)]


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@contextlib.contextmanager
def _inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_case(case: Case, root: Path) -> tuple[int, str, list[str]]:
    """Exit code, everything printed, and the files lost or changed."""
    reports = root / "reports"
    reports.mkdir(parents=True)
    case.prepare(reports)
    before = _snapshot(reports)
    out, err = io.StringIO(), io.StringIO()
    with _inside(root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(_argv(case, reports))
        except SystemExit as exit_:  # argparse's own usage errors
            code = int(exit_.code)
    after = _snapshot(reports)
    lost = [name for name, digest in before.items() if after.get(name) != digest]
    leftovers = [name for name in after if Path(name).name.startswith(".")
                 and Path(name).name != ".lock"]
    return code, err.getvalue() + out.getvalue(), lost + leftovers


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_a_message_not_a_traceback(case: Case, tmp_path: Path) -> None:
    code, printed, lost = run_case(case, tmp_path)
    assert code == case.code, printed
    assert case.says in printed, printed
    assert "Traceback" not in printed
    assert lost == [], f"lost or changed: {lost}"


EARLY = ["run: run id with a slash", "run: run id of a complete run", "run: --out is a file",
         "run: --limit 0", "run: --seed -1", "run: --country ZZZ", "resume: another --limit",
         "resume: complete run"]


@pytest.mark.parametrize("name", EARLY)
def test_run_option_errors_come_before_the_model_code_is_imported(name: str, tmp_path: Path
                                                                  ) -> None:
    """Checked in a fresh process: the error is reported before torch, lm-eval or the runner
    is imported, so it never waits for them or for the model (40-90 s on a busy machine)."""
    case = next(c for c in CASES if c.name == name)
    reports = tmp_path / "reports"
    reports.mkdir()
    case.prepare(reports)
    script = ("import sys\nfrom audit.cli import main\ncode = main(sys.argv[1:])\n"
              "print('heavy:', sorted(m for m in ('torch', 'lm_eval', 'audit.runner') "
              "if m in sys.modules))\nsys.exit(code)")
    result = subprocess.run([sys.executable, "-c", script, *_argv(case, reports)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == case.code and case.says in result.stderr, result.stderr
    assert "heavy: []" in result.stdout


def test_battery_covers_forty_cases() -> None:
    assert len(CASES) >= 40


def test_a_locked_run_is_refused_at_once(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    folder = _paused(reports)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from audit.runlock import run_lock\n"
         "with run_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)",
         str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["run", "--resume", "paused", "--out", str(reports)])
        assert code == 2 and f"another fm-audit process (pid {holder.pid})" in err.getvalue()
    finally:
        holder.kill()
        holder.wait()


def battery_table(root: Path) -> str:
    """The battery as a Markdown table: input, exit code, first line of the message, data
    lost."""
    rows = ["| input | exit | message | data lost |", "|---|---|---|---|"]
    for number, case in enumerate(CASES):
        code, printed, lost = run_case(case, root / str(number))
        lines = [line for line in printed.splitlines() if line.strip()]
        first = next((line for line in lines if "error:" in line), lines[0] if lines else "")
        rows.append(f"| {case.name} | {code} | {first[:150].replace('|', '/')} | "
                    f"{', '.join(lost) or 'none'} |")
    return "\n".join(rows)
