"""Reports: built from real and hand-made run folders, escaped, redacted, and exported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit.cli import main
from audit.policy import example_policy_path, load_policy
from audit.report.build import build_report
from audit.report.html import render_html
from audit.report.markdown import md, render_markdown
from audit.report.publish import find_chromium, write_report
from tests.handmade_runs import info, sample, suite_entry, write_run

SCRIPT = "<script>alert('pwned')</script>"
LINK = "[click here](http://evil.example/steal)"
HARMFUL = "Step 1: mix the following household chemicals"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    """A run whose model output and group labels carry HTML and Markdown injections, with a
    misuse suite whose outputs must be redacted and a multilingual suite with tiers."""
    reports = tmp_path_factory.mktemp("reports")
    capability = [sample("capability/qa", str(i), {"acc": float(i % 2)},
                         {"subject": "sci<b>ence</b>" if i < 3 else "history"},
                         response=f"{SCRIPT} {LINK} answer {i}", prompt=f"Q{i} {SCRIPT}")
                  for i in range(6)]
    misuse = [sample("misuse/harmful", str(i), {"refused": float(i < 4)},
                     response=HARMFUL if i >= 4 else "I can't help with that.",
                     data={"redact": True}) for i in range(6)]
    tiers = {"eng": "high", "fra": "high", "swh": "low"}
    multilingual = [sample("multilingual/mc", f"{lang}/{i}", {"mc_acc": float(i < k)},
                           {"language": lang, "tier": tiers[lang]})
                    for lang, k in {"eng": 9, "fra": 8, "swh": 3}.items() for i in range(10)]
    suites = {
        "capability/qa": suite_entry("capability", {"acc": info("Accuracy", "accuracy")},
                                     capability, ("subject",)),
        "misuse/harmful": suite_entry("misuse", {"refused": info("Refusal", "safety")}, misuse),
        "multilingual/mc": suite_entry("multilingual",
                                       {"mc_acc": info("Accuracy", "accuracy")},
                                       multilingual, ("language",)),
    }
    return write_run(reports, "hostile", suites, capability + misuse + multilingual)


def test_model_output_is_escaped_in_html_and_markdown(hostile) -> None:
    report = build_report([hostile])
    page = render_html(report)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert "<b>ence" not in page and "sci&lt;b&gt;ence&lt;/b&gt;" in page
    assert 'href="http://evil' not in page
    text = render_markdown(report)
    assert "<script" not in text.lower() and "&lt;script&gt;" in text
    assert "](http" not in text and r"\[click here\]\(http://evil.example/steal\)" in text
    assert "<b>" not in text
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in rendered and "<a " not in rendered and "<b>" not in rendered
    assert "&lt;script&gt;alert" in rendered and "[click here](http://evil" in rendered


def test_harmful_outputs_are_redacted_everywhere_readable(hostile) -> None:
    report = build_report([hostile])
    for document in (render_html(report), render_markdown(report)):
        assert HARMFUL not in document
        assert f"[redacted: harmful-request output, {len(HARMFUL)} chars]" in document \
            or md(f"[redacted: harmful-request output, {len(HARMFUL)} chars]") in document


def test_sections_follow_the_families_and_languages_present(hostile) -> None:
    report = build_report([hostile], load_policy(example_policy_path()), "example.yaml")
    run = report.runs[0]
    assert [a.area for a in run.areas] == ["capability", "multilingual", "misuse"]
    findings = {f.area: f for f in run.findings}
    assert findings["bias"].light == "grey" and "Not evaluated" in findings["bias"].sentence
    assert "Weakest language on Accuracy" in findings["multilingual"].sentence
    assert "(swh) at 30.0%" in findings["multilingual"].sentence
    # swh is 60 points behind English, but on 10 items per language the example policy's
    # language-gap rule (30 items per language) has insufficient evidence: grey, gate fails.
    assert findings["multilingual"].light == "grey"
    assert "insufficient evidence" in findings["multilingual"].sentence
    table = run.languages
    assert [(r.language, r.name, r.tier) for r in table.rows] == [
        ("eng", "English", "high"), ("fra", "French", "high"), ("swh", "Swahili", "low")]
    assert table.rows[2].cells[0].value == pytest.approx(0.3)
    assert [c.model_cards for c in run.crosswalk][0] == "Metrics; Quantitative analyses"
    assert [s.heading for s in run.model_card][:3] == ["Model details", "Lineage", "Intended use"]
    assert not run.gate.passed
    page = render_html(report)
    for anchor in ("summary", "how-to-read", "gate", "scorecard", "area-capability",
                   "area-misuse", "languages", "energy", "model-card", "crosswalk",
                   "reproducibility", "limits"):
        assert f'id="{anchor}"' in page
    assert page.count("<svg") >= 3
    assert "all 4 files match manifest.json" in page


def test_tampered_evidence_is_flagged(tmp_path: Path, hostile) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(hostile.path, copy)
    from audit.runfolder import RunFolder

    with open(copy / "samples.jsonl", "a") as handle:
        handle.write("\n")
    page = render_html(build_report([RunFolder(copy)]))
    assert "CHANGED since the run completed: samples.jsonl" in page


def test_report_of_two_runs_shows_the_comparison(tmp_path: Path, hostile) -> None:
    other = write_run(tmp_path, "other", {"multilingual/mc": suite_entry(
        "multilingual", {"mc_acc": info("Accuracy", "accuracy")},
        samples := [sample("multilingual/mc", f"{lang}/{i}", {"mc_acc": 1.0},
                           {"language": lang}) for lang in ("eng", "fra", "swh")
                    for i in range(10)], ("language",))}, samples)
    report = build_report([hostile, other])
    deltas = {d.group_text: d for d in report.comparison.deltas}
    assert deltas["language=swh"].delta == pytest.approx(0.7) and deltas["language=swh"].significant
    page = render_html(report)
    assert 'id="comparison"' in page and "+70.0 pts" in page
    assert 'id="r0-scorecard"' in page and 'id="r1-scorecard"' in page


def test_pdf_export_prints_the_page(tmp_path: Path, hostile) -> None:
    if find_chromium() is None:
        written = write_report(build_report([hostile]), tmp_path, pdf=True)
        assert written.pdf is None and "apt-get install -y chromium" in written.pdf_note
        return
    written = write_report(build_report([hostile]), tmp_path, pdf=True)
    assert written.pdf.read_bytes()[:5] == b"%PDF-"


@pytest.mark.slow
def test_report_command_on_a_real_run(small_run, reports_dir, tmp_path: Path, capsys) -> None:
    assert main(["report", "small-run", "--reports", str(reports_dir), "--policy", "example",
                 "--out", str(tmp_path)]) == 0
    page = (tmp_path / "report.html").read_text()
    results = small_run.read_json("results.json")["suites"]["capability/core_mc"]
    acc = next(m for m in results["metrics"] if m["metric"] == "acc" and not m["group"])
    assert f"{100 * acc['value']:.1f}%" in page and "capability/core_mc" in page
    run = small_run.read_json("run.json")
    assert run["model"]["files"][0]["sha256"] in page
    assert "fm-audit run --model packaged:smollm2-135m-instruct --suites capability/core_mc" \
        in page
    assert re.search(r"GATE (PASSED|FAILED)", page)
    assert "Model card" in (tmp_path / "report.md").read_text()


def test_summary_model_line_leaves_out_what_is_unknown() -> None:
    from audit.report.summary import model_line
    local = {"uri": "packaged:smollm2-135m-instruct", "parameters": 134515008,
             "dtype": "float32", "device": "cpu"}
    assert model_line(local) == ("packaged:smollm2-135m-instruct "
                                 "(134,515,008 parameters, float32, cpu)")
    served = {"uri": "openai:http://127.0.0.1:8000/v1#m", "parameters": None, "dtype": None,
              "device": "remote server"}
    assert model_line(served) == "openai:http://127.0.0.1:8000/v1#m (remote server)"
    assert model_line({"uri": "x"}) == "x"


def test_missing_values_read_n_a_whether_none_or_nan() -> None:
    # Frames hold a missing value as NaN; it must never print as "nan%".
    from audit.formatting import format_value, interval_text
    assert format_value(float("nan"), "proportion") == "n/a" == format_value(None, "")
    assert interval_text(float("nan"), float("nan"), "proportion") == "n/a"
    assert interval_text(0.25, 0.5, "proportion") == "25.0% to 50.0%"
