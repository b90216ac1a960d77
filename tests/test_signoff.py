"""Sign-off: `fm-audit sign` records a decision with the sha256 of the evidence and the
report read; the report shows it and says when anything it covers changed afterwards."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from audit.cli import main
from audit.runfolder import RunFolder
from tests.handmade_runs import info, sample, suite_entry, write_run

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture()
def run(tmp_path: Path) -> RunFolder:
    """A complete hand-made run with its report written, as a reviewer would read it."""
    samples = [sample("capability/qa", str(i), {"acc": float(i % 2)}) for i in range(6)]
    folder = write_run(tmp_path / "reports", "signed-run", {
        "capability/qa": suite_entry("capability", {"acc": info("Accuracy", "accuracy")},
                                     samples)}, samples)
    assert main(["report", str(folder.path)]) == 0
    return folder


def _sign(folder: RunFolder, *extra: str) -> int:
    return main(["sign", str(folder.path), "--reviewer", "Ada Reviewer", "--role",
                 "AI governance lead", *extra])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _report(folder: RunFolder) -> tuple[str, str]:
    assert main(["report", str(folder.path)]) == 0
    return ((folder.path / "report.html").read_text(), (folder.path / "report.md").read_text())


def test_sign_records_the_hashes_of_the_manifest_and_the_report_read(run, capsys) -> None:
    read = {name: _sha256(run.path / name) for name in ("report.html", "report.md")}
    assert _sign(run, "--decision", "conditions", "--conditions", "Monitor Swahili") == 0
    record = json.loads((run.path / "signoff.json").read_text())["signoffs"]
    assert len(record) == 1
    entry = record[0]
    assert (entry["reviewer"], entry["role"], entry["decision"], entry["conditions"]) == (
        "Ada Reviewer", "AI governance lead", "conditions", "Monitor Swahili")
    assert entry["manifest_sha256"] == _sha256(run.path / "manifest.json")
    # the signed copies hold exactly the bytes the reviewer read
    assert entry["reports"] == {f"signed/1/{name}": digest for name, digest in read.items()}
    assert entry["date"].endswith("+00:00")
    assert "Recorded 'conditions' by Ada Reviewer" in capsys.readouterr().out


def test_report_shows_a_valid_signoff(run) -> None:
    assert _sign(run, "--decision", "approve") == 0
    page, text = _report(run)
    assert 'id="signoff"' in page and "Ada Reviewer" in page and "AI governance lead" in page
    assert "VERIFIED: the run&#x27;s files, its manifest and the signed report are unchanged" \
        in page
    assert "CHANGED AFTER SIGN-OFF" not in page
    assert "VERIFIED: the run's files" in text
    # rendering the report again did not touch what was signed
    page, _ = _report(run)
    assert "CHANGED AFTER SIGN-OFF" not in page


@pytest.mark.parametrize("tamper, named", [
    (lambda p: p.joinpath("results.json").write_text(
        p.joinpath("results.json").read_text().replace('"n_samples": 6', '"n_samples": 60')),
     "results.json (changed)"),
    (lambda p: (p / "samples.jsonl").open("a").write("\n"), "samples.jsonl (changed)"),
    (lambda p: p.joinpath("manifest.json").write_text(
        p.joinpath("manifest.json").read_text() + " "), "manifest.json (changed)"),
    (lambda p: p.joinpath("signed/1/report.html").write_text("<p>all green</p>"),
     "signed/1/report.html (changed)"),
    (lambda p: p.joinpath("signed/1/report.md").unlink(), "signed/1/report.md (deleted)"),
])
def test_a_run_changed_after_signoff_is_shown_as_such(run, tamper, named) -> None:
    assert _sign(run, "--decision", "approve") == 0
    tamper(run.path)
    page, text = _report(run)
    assert "CHANGED AFTER SIGN-OFF" in page and named in page
    # at the top of the page, not only in the sign-off table
    assert page.index("CHANGED AFTER SIGN-OFF") < page.index('id="summary"')
    assert "CHANGED AFTER SIGN-OFF" in text and "VERIFIED: the run" not in page


def test_signoff_pointing_outside_the_signed_copies_is_not_trusted(run) -> None:
    assert _sign(run, "--decision", "reject") == 0
    document = json.loads((run.path / "signoff.json").read_text())
    entry = document["signoffs"][0]
    entry["reports"] = {"manifest.json": _sha256(run.path / "manifest.json")}
    (run.path / "signoff.json").write_text(json.dumps(document))
    page, _ = _report(run)
    assert "manifest.json (not a signed copy under signed/)" in page


def test_reviewer_text_is_escaped(run) -> None:
    assert main(["sign", str(run.path), "--reviewer", SCRIPT, "--role", "[x](http://e.x)",
                 "--decision", "approve"]) == 0
    page, text = _report(run)
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert SCRIPT not in text and "](http" not in text


def test_unsigned_report_says_how_to_sign(run) -> None:
    page, text = _report(run)
    assert "Not signed off." in page and "fm-audit sign signed-run --reviewer" in page
    assert "Not signed off." in text


@pytest.mark.parametrize("arguments, message", [
    (["--reviewer", " ", "--role", "lead", "--decision", "approve"], "needs a reviewer"),
    (["--reviewer", "A", "--role", "lead", "--decision", "conditions"], "needs a conditions"),
    (["--reviewer", "A", "--role", "lead", "--decision", "approve", "--conditions", "x"],
     "--conditions given with the decision 'approve'"),
    (["--reviewer", "A\x1b[31m", "--role", "lead", "--decision", "approve"],
     "control characters"),
    (["--reviewer", "A", "--role", "lead", "--decision", "approve", "--report", "../x"],
     "invalid report name"),
    (["--reviewer", "A", "--role", "lead", "--decision", "approve", "--report", "other"],
     "no other.html, .md or .pdf"),
])
def test_bad_signoffs_are_refused_and_nothing_is_written(run, capsys, arguments,
                                                         message) -> None:
    assert main(["sign", str(run.path), *arguments]) == 2
    assert message in capsys.readouterr().err
    assert not (run.path / "signoff.json").exists() and not (run.path / "signed").exists()


def test_an_unverified_run_cannot_be_signed(tmp_path: Path, run, capsys) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run.path, copy)
    (copy / "samples.jsonl").open("a").write("\n")
    assert main(["sign", str(copy), "--reviewer", "A", "--role", "lead",
                 "--decision", "approve"]) == 2
    assert "is not verified evidence" in capsys.readouterr().err
    assert not (copy / "signoff.json").exists()


def test_second_signoff_is_added_beside_the_first(run) -> None:
    assert _sign(run, "--decision", "approve") == 0
    assert main(["sign", str(run.path), "--reviewer", "B", "--role", "legal",
                 "--decision", "reject"]) == 0
    entries = json.loads((run.path / "signoff.json").read_text())["signoffs"]
    assert [e["reviewer"] for e in entries] == ["Ada Reviewer", "B"]
    assert set(entries[1]["reports"]) == {"signed/2/report.html", "signed/2/report.md"}
    page, _ = _report(run)
    assert page.count("VERIFIED: the run") == 2
