"""Governance blocks of the report: declared use from audit-card.yaml, the risks this audit
does not measure, and a crosswalk that says what is evidenced, partly or not at all."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from audit.errors import ConfigError
from audit.report.build import build_report
from audit.report.html import render_html
from audit.report.markdown import render_markdown
from audit.runfolder import RunFolder
from tests.handmade_runs import info, sample, suite_entry, write_run

SCRIPT = "<script>alert(1)</script>"


def _run(reports: Path, run_id: str = "card", profile: str = "quick") -> RunFolder:
    samples = [sample("capability/qa", str(i), {"acc": float(i % 2)}) for i in range(6)]
    folder = write_run(reports, run_id, {"capability/qa": suite_entry(
        "capability", {"acc": info("Accuracy", "accuracy")}, samples)}, samples)
    if profile != "quick":  # rewrite run.json as a standard run, then the manifest again
        run = folder.read_json("run.json")
        run["config"]["profile"] = profile
        folder.write_json("run.json", run)
        folder.write_manifest()
    return folder


def _card(folder: RunFolder) -> dict[str, str]:
    run = build_report([folder]).runs[0]
    return dict(next(s for s in run.model_card if s.heading == "Intended use").items)


def test_declared_use_comes_from_the_audit_card(tmp_path: Path) -> None:
    folder = _run(tmp_path)
    (folder.path / "audit-card.yaml").write_text(
        "intended_use: Customer-support drafts in English and Swahili, reviewed by staff.\n"
        f"out_of_scope_use: Medical or legal advice. {SCRIPT}\n")
    card = _card(folder)
    assert card["Intended use"] == ("Customer-support drafts in English and Swahili, "
                                    "reviewed by staff.")
    assert card["Out-of-scope use"] == f"Medical or legal advice. {SCRIPT}"
    assert card["Deployment context"] == "not declared"
    assert card["Declared in"] == "audit-card.yaml"
    page = render_html(build_report([folder]))
    assert SCRIPT not in page and "&lt;script&gt;" in page


def test_without_a_card_the_run_config_or_not_declared_is_shown(tmp_path: Path) -> None:
    card = _card(_run(tmp_path))
    # tests/handmade_runs.py writes intended_use "testing the report" into the run config
    assert card["Intended use"] == "testing the report"
    assert card["Out-of-scope use"] == "not declared"
    assert card["Declared in"] == "the run config (intended_use)"


def test_a_malformed_card_names_the_field_and_line(tmp_path: Path) -> None:
    folder = _run(tmp_path)
    (folder.path / "audit-card.yaml").write_text("intended_use: chat\nintended_users: all\n")
    with pytest.raises(ConfigError) as raised:
        build_report([folder])
    assert "intended_users (line 2)" in raised.value.message
    assert "audit-card.yaml" in raised.value.message


def test_risks_not_measured_are_listed(tmp_path: Path) -> None:
    report = build_report([_run(tmp_path)])
    section = next(s for s in report.runs[0].model_card
                   if s.heading == "Risks this audit does not measure")
    assert [risk for risk, _ in section.items][:4] == [
        "Toxicity", "PII leakage and memorisation", "Factuality of open answers",
        "CBRN and cyber uplift"]
    assert "Risks this audit does not measure" in render_markdown(report)


def test_crosswalk_marks_evidenced_partly_and_not_evidenced(tmp_path: Path) -> None:
    quick = {c.anchor: (c.status, c.why) for c in build_report([_run(tmp_path)]).runs[0]
             .crosswalk}
    assert quick["area-capability"][0] == "partly" and "screening" in quick["area-capability"][1]
    assert quick["area-bias"] == ("not evidenced", "absent from this run")
    assert quick["energy"][0] == "partly" and "estimated" in quick["energy"][1]
    assert quick["gate"][0] == "not evidenced"
    assert quick["reproducibility"] == ("evidenced", "")
    rows = build_report([_run(tmp_path, "standard", "standard")]).runs[0].crosswalk
    standard = {c.finding: c.status for c in rows}
    assert standard["Training data: not examined by this audit"] == "not evidenced"
    assert standard["Privacy and PII leakage: not measured"] == "not evidenced"
    assert next(c for c in rows if c.anchor == "area-capability").status == "evidenced"


def test_crosswalk_reproducibility_is_partly_when_the_folder_changed(tmp_path: Path) -> None:
    folder = _run(tmp_path)
    results = json.loads((folder.path / "results.json").read_text())
    results["suites"]["capability/qa"]["n_samples"] = 60
    (folder.path / "results.json").write_text(json.dumps(results))
    row = next(c for c in build_report([folder]).runs[0].crosswalk
               if c.anchor == "reproducibility")
    assert row.status == "partly" and "does not match its manifest" in row.why


def test_energy_shows_the_component_split_and_the_grid_intensity(tmp_path: Path) -> None:
    samples = [sample("capability/qa", str(i), {"acc": 1.0}) for i in range(4)]
    folder = write_run(tmp_path, "energy", {"capability/qa": suite_entry(
        "capability", {"acc": info("Accuracy", "accuracy")}, samples)}, samples)
    energy = json.loads((folder.path / "energy.json").read_text())
    entry = energy["suites"]["capability/qa"]
    # 0.3 Wh in total: 0.2 Wh CPU (estimated), 0.1 Wh RAM (estimated), no GPU; 0.12 g CO2e
    entry.update(energy_kwh=0.0003, cpu_kwh=0.0002, ram_kwh=0.0001,
                 emissions_kg_co2e=0.00012)
    (folder.path / "energy.json").write_text(json.dumps(energy))
    section = build_report([folder]).runs[0].energy
    split = [(c.component, round(c.wh, 6), round(c.share, 6), c.method)
             for c in section.components]
    assert split == [("CPU", 0.2, round(2 / 3, 6), "estimated"), ("GPU", 0.0, 0.0, "absent"),
                     ("RAM", 0.1, round(1 / 3, 6), "estimated")]
    assert section.grid.startswith("400 g CO2e per kWh (USA)")
    page = render_html(build_report([folder]))
    assert "Per component" in page and "67%" in page and "PUE 1: not recorded in run.json" in page


def test_a_peft_run_shows_its_base_and_adapter_with_their_sha256(tmp_path: Path) -> None:
    from audit.models.base import ModelProvenance
    from audit.models.peft_adapter import adapter_provenance, check_adapter

    planted = "<img src=x onerror=alert(1)>"
    adapter_dir = tmp_path / f"adapter-{planted}"
    adapter_dir.mkdir()
    (adapter_dir / "adapter_model.safetensors").write_bytes(b"adapter weights")
    config = {"peft_type": "LORA", "base_model_name_or_path": "HuggingFaceTB/SmolLM2"}
    (adapter_dir / "adapter_config.json").write_text(json.dumps(config))
    base = ModelProvenance(uri="packaged:base", scheme="packaged", name="base",
                           files=[{"path": "a.safetensors", "sha256": "a" * 64},
                                  {"path": "b.safetensors", "sha256": "b" * 64}])
    record = adapter_provenance(f"peft:packaged:base+{adapter_dir}", base,
                                check_adapter(adapter_dir, allow_pickle=False)).to_dict()
    folder = _run(tmp_path / "reports")
    folder.write_json("run.json", dict(folder.read_json("run.json"), model=record))
    folder.write_manifest()
    report = build_report([folder])
    pairs = dict(next(s for s in report.runs[0].model_card if s.heading == "Lineage").items)
    assert pairs["Base model"] == "packaged:base"
    assert pairs["Base weights sha256"] == hashlib.sha256(
        ("a" * 64 + "\n" + "b" * 64).encode()).hexdigest()
    weights_sha = hashlib.sha256(b"adapter weights").hexdigest()
    config_sha = hashlib.sha256(json.dumps(config).encode()).hexdigest()
    assert pairs["Adapter weights sha256"].startswith(weights_sha)
    assert pairs["Adapter config sha256"].startswith(config_sha)
    assert pairs["Adapter"] == f"{adapter_dir} (LORA, merged into the base)"
    assert pairs["Adapter trained on (its config says)"] == "HuggingFaceTB/SmolLM2"
    page = render_html(report)
    assert weights_sha in page and planted not in page  # the planted path is escaped
    plain = dict(next(s for s in build_report([_run(tmp_path / "plain")]).runs[0].model_card
                      if s.heading == "Lineage").items)
    assert plain == {"Lineage": "the run records one model, not a base model and an adapter"}
