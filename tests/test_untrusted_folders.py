"""Run folders are untrusted: every string is rendered as text, any Unicode is survived, and
every reader says first when the folder is not what the run wrote."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from audit.cli import main
from audit.report.build import build_report
from audit.report.markdown import render_markdown
from audit.report.publish import write_report
from audit.runfolder import RunFolder, check_evidence
from tests.handmade_runs import info, sample, suite_entry, write_run

IMAGE = "![tracker](http://evil.example/t.png)"
PAYLOADS = {
    "uri": "hf:<script>alert(1)</script>",
    "dtype": "float32\n\n<img src=x onerror=alert(2)>",
    "command": "fm-audit run\n\n<iframe src=\"http://evil.example\"></iframe>",
    "platform": f"Linux\n\n{IMAGE}",
    "package": "1.0`\n\n<script>alert(3)</script>",
}
SUITE = "capability/core_mc"
UNESCAPED = re.compile(r"(?<!\\)\]\(|(?<!\\)<(img|script|iframe)")
"""A link or image target, or an HTML tag, not neutralised by a backslash."""


def _hostile_run(reports: Path, run_id: str = "hostile") -> RunFolder:
    """A complete run whose run.json and results.json texts carry HTML and Markdown
    injections (as an attacker who hands over a run folder would write them)."""
    samples = [sample(SUITE, str(i), {"acc": float(i % 2)}) for i in range(6)]
    entry = suite_entry("capability", {"acc": info("Accuracy", "capability")}, samples)
    entry.update(description=f"desc {IMAGE} <img src=x onerror=alert(4)>",
                 limits=f"limits [link](http://evil.example) {IMAGE}")
    entry["metric_info"]["acc"]["description"] = f"metric {IMAGE}"
    folder = write_run(reports, run_id, {SUITE: entry}, samples)
    run = folder.read_json("run.json")
    run["model"] = dict(run["model"], uri=PAYLOADS["uri"], dtype=PAYLOADS["dtype"])
    run["command"] = PAYLOADS["command"]
    run["environment"] = {"platform": PAYLOADS["platform"], "python": "3.11",
                          "packages": {"evil": PAYLOADS["package"]}}
    folder.write_json("run.json", run)
    folder.write_manifest()
    return folder


def test_run_json_fields_cannot_inject_html_into_the_markdown_report(tmp_path: Path) -> None:
    text = render_markdown(build_report([_hostile_run(tmp_path)]))
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    for tag in ("<script", "<img", "<iframe", "<a "):
        assert tag not in rendered, tag
    assert "&lt;iframe" in rendered and "&lt;script&gt;alert(3)" in rendered


def test_a_report_written_into_the_folder_is_not_a_change(tmp_path: Path) -> None:
    """A report made while the run was still running must not read as tampering once the
    run completes and its manifest is written."""
    folder = _hostile_run(tmp_path)
    (folder.path / "manifest.json").unlink()
    write_report(build_report([folder]), folder.path)
    folder.write_manifest()
    write_report(build_report([folder]), folder.path)
    assert check_evidence(folder).verified
    assert "CHANGED" not in (folder.path / "report.md").read_text()


def test_a_deleted_manifest_of_a_complete_run_is_said_as_such(tmp_path: Path) -> None:
    folder = _hostile_run(tmp_path)
    (folder.path / "manifest.json").unlink()
    evidence = check_evidence(folder)
    assert evidence.state == "unverifiable" and "complete but manifest.json is missing" in \
        evidence.detail
    text = render_markdown(build_report([folder]))
    assert "run incomplete" not in text
    assert text.index("not verified evidence") < text.index("Executive summary")


@pytest.mark.parametrize("edit, found", [
    (lambda p: (p / "results.json").write_text((p / "results.json").read_text() + " "),
     "results.json (changed)"),
    (lambda p: (p / "energy.json").unlink(), "energy.json (deleted)"),
    (lambda p: (p / "requests.jsonl").write_text("{}\n"), "requests.jsonl (added after"),
])
def test_each_kind_of_change_is_named(tmp_path: Path, edit, found: str) -> None:
    folder = _hostile_run(tmp_path)
    edit(folder.path)
    evidence = check_evidence(folder)
    assert evidence.state == "modified" and found in evidence.detail


def test_compare_refuses_a_tampered_score_unless_allowed(tmp_path: Path, capsys) -> None:
    base = _hostile_run(tmp_path, "base")
    other = _hostile_run(tmp_path, "other")
    results = json.loads((other.path / "results.json").read_text())
    results["suites"][SUITE]["metrics"][0]["value"] = 0.99
    (other.path / "results.json").write_text(json.dumps(results))
    argv = ["compare", "base", "other", "--reports", str(tmp_path), "--format", "csv"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "results.json (changed)" in captured.err and captured.out == ""
    assert main([*argv, "--allow-modified"]) == 0
    captured = capsys.readouterr()
    assert "results.json (changed)" in captured.err and captured.out.startswith("run_a,")
    assert check_evidence(base).verified


def test_a_lone_surrogate_or_invalid_utf8_reads_as_replacement(tmp_path: Path) -> None:
    folder = _hostile_run(tmp_path)
    lines = (folder.path / "samples.jsonl").read_bytes().splitlines()
    lines[0] = lines[0].replace(b'"an answer"', b'"\\ud800 lone"')
    lines[1] = lines[1].replace(b'"an answer"', b'"\xff\xfe bytes"')
    (folder.path / "samples.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    records = list(folder.iter_samples())
    assert records[0]["responses"] == ["\ufffd lone"]
    assert records[1]["responses"] == ["\ufffd\ufffd bytes"]
    assert main(["report", "hostile", "--reports", str(tmp_path)]) == 0
    assert sorted(p.name for p in folder.path.iterdir() if p.name.startswith(".")) == []
    assert (folder.path / "report.md").stat().st_size > 0


def test_dashboard_pages_show_run_folder_text_only_as_text(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """Markdown-rendering elements (titles, captions, messages, Markdown) never carry a
    run-folder string unescaped; a lone surrogate breaks no page; the banner is shown."""
    from streamlit.testing.v1 import AppTest

    from dashboard.ui import REPORTS_ENV, SELECTED_KEY

    folder = _hostile_run(tmp_path)
    raw = (folder.path / "samples.jsonl").read_text().replace('"an answer"', '"\\ud800"', 1)
    (folder.path / "samples.jsonl").write_text(raw)
    monkeypatch.setenv(REPORTS_ENV, str(tmp_path))
    views = Path(__file__).resolve().parent.parent / "dashboard" / "views"
    for page in ("overview", "capability", "samples", "energy"):
        app = AppTest.from_file(str(views / f"{page}.py"), default_timeout=120)
        app.session_state[SELECTED_KEY] = [str(folder.path)]
        app.run()
        assert not app.exception, (page, app.exception)
        rendered = [str(e.value) for kind in ("title", "header", "subheader", "markdown",
                                              "caption", "info", "warning", "error")
                    for e in app.get(kind)]
        for value in rendered:
            assert not UNESCAPED.search(value), (page, value)
        texts = "\n".join(str(e.value) for e in app.get("text"))
        assert "not verified evidence" in texts and "samples.jsonl (changed)" in texts
        if page == "capability":
            assert IMAGE in texts
