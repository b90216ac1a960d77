"""Energy: each estimated component's range comes from CodeCarbon's own power models, the real
tracker records the inputs those ranges need, and the PUE is declared, recorded and applied in
the report (IT and facility energy side by side)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from audit.config import load_config
from audit.energy import component_ranges, measurement_methods, track_energy
from audit.errors import ConfigError
from audit.report.build import build_report
from audit.report.html import render_html
from audit.report.markdown import render_markdown
from audit.runfolder import RunFolder
from tests.handmade_runs import info, sample, suite_entry, write_run


def _entry(**changes: object) -> dict:
    """A CPU-only suite entry as CodeCarbon 3 records it without RAPL: 360 s, a TDP of 8 W,
    RAM at 20 W for 23.5 GB."""
    entry = {"energy_kwh": 0.0025, "cpu_kwh": 0.0005, "gpu_kwh": 0.0, "ram_kwh": 0.002,
             "duration_s": 360.0,
             "method": {"cpu": "estimated", "gpu": "absent", "ram": "estimated"},
             "hardware": {"ram_total_gb": 23.5, "ram_power_w": 20.0, "cpu_tdp_w": 8}}
    entry.update(changes)
    return entry


def test_estimated_components_span_codecarbons_own_models() -> None:
    ranges = component_ranges(_entry())
    # RAM: 2 Wh at 20 W; the older rule, 3 W per 8 GB, is 8.8125 W for 23.5 GB -> 0.88125 Wh.
    assert ranges["ram"]["low_kwh"] == pytest.approx(0.002 * 8.8125 / 20.0)
    assert ranges["ram"]["high_kwh"] == pytest.approx(0.002)
    assert "3 W per 8 GB" in ranges["ram"]["basis"]
    # CPU: 8 W for 0.1 h is 0.8 Wh at full TDP and 0.08 Wh at the 10% idle floor.
    assert ranges["cpu"]["low_kwh"] == pytest.approx(0.00008)
    assert ranges["cpu"]["high_kwh"] == pytest.approx(0.0008)
    assert "TDP of 8 W" in ranges["cpu"]["basis"]
    assert ranges["gpu"] == {"low_kwh": 0.0, "high_kwh": 0.0, "basis": ranges["gpu"]["basis"]}


def test_a_cpu_figure_outside_the_model_span_widens_the_range() -> None:
    # 1 Wh in 360 s is 10 W, above the 8 W TDP: the range must still contain the figure.
    ranges = component_ranges(_entry(cpu_kwh=0.001))
    assert ranges["cpu"]["low_kwh"] == pytest.approx(0.00008)
    assert ranges["cpu"]["high_kwh"] == pytest.approx(0.001)


def test_a_measured_component_has_no_spread_and_missing_inputs_give_no_range() -> None:
    measured = component_ranges(_entry(method={"cpu": "measured", "gpu": "absent",
                                               "ram": "estimated"}))
    assert (measured["cpu"]["low_kwh"], measured["cpu"]["high_kwh"]) == (0.0005, 0.0005)
    for hardware in ({}, {"ram_total_gb": "23.5", "ram_power_w": -1, "cpu_tdp_w": True}):
        unknown = component_ranges(_entry(hardware=hardware))
        assert unknown["cpu"]["low_kwh"] is None and unknown["ram"]["high_kwh"] is None
        assert "not recorded" in unknown["ram"]["basis"]


def test_the_real_tracker_records_the_inputs_of_its_ranges() -> None:
    with track_energy("test", "FRA") as meter:
        time.sleep(1.5)
    entry = meter.record(n_requests=1, n_tokens=None, n_correct=None)
    methods = measurement_methods()
    assert entry["method"] == methods
    for component in ("cpu", "ram"):
        spread = entry["uncertainty"][component]
        kwh = entry[f"{component}_kwh"]
        if methods[component] == "estimated":
            assert spread["low_kwh"] <= kwh <= spread["high_kwh"] * 1.05, component
            assert spread["low_kwh"] < spread["high_kwh"], component
        else:
            assert spread["low_kwh"] == spread["high_kwh"] == kwh
    if methods["cpu"] == "estimated":
        assert entry["hardware"]["cpu_tdp_w"] > 0


def _energy_run(reports: Path, pue: float | None) -> RunFolder:
    samples = [sample("capability/qa", str(i), {"acc": 1.0}) for i in range(4)]
    folder = write_run(reports, "energy", {"capability/qa": suite_entry(
        "capability", {"acc": info("Accuracy", "accuracy")}, samples)}, samples)
    energy = folder.read_json("energy.json")
    energy["suites"]["capability/qa"] = dict(energy["suites"]["capability/qa"], **_entry(),
                                             emissions_kg_co2e=0.001)
    folder.write_json("energy.json", energy)
    if pue is not None:
        run = folder.read_json("run.json")
        run["config"]["pue"] = pue
        folder.write_json("run.json", run)
    folder.write_manifest()
    return folder


def test_a_declared_pue_gives_the_facility_energy_beside_the_it_energy(tmp_path: Path) -> None:
    section = build_report([_energy_run(tmp_path, 1.4)]).runs[0].energy
    assert section.pue == 1.4 and section.facility_wh == pytest.approx(3.5)
    # CPU 0.08-0.8 Wh, RAM 0.88125-2 Wh, GPU 0: 0.96125 to 2.8 Wh in all.
    assert section.range_wh == pytest.approx((0.96125, 2.8))
    page = render_html(build_report([_energy_run(tmp_path / "b", 1.4)]))
    assert "PUE 1.4: declared in the run config." in page
    assert "Facility energy (IT energy x PUE): 3.5 Wh, 1.4 g CO2e." in page
    assert "range 0.961 to 2.8 Wh" in page
    assert "0.881 to 2" in render_markdown(build_report([_energy_run(tmp_path / "c", 1.4)]))


def test_the_default_pue_and_an_unrecorded_one_say_why(tmp_path: Path) -> None:
    default = build_report([_energy_run(tmp_path / "a", 1.0)]).runs[0].energy
    assert default.facility_wh == default.total_wh and "cannot know the overhead" in \
        default.pue_note
    old = build_report([_energy_run(tmp_path / "b", None)]).runs[0].energy
    assert old.pue == 1.0 and "not recorded in run.json" in old.pue_note


def test_a_pue_below_one_is_refused_with_the_field_named(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("pue: 0.8\n")
    with pytest.raises(ConfigError, match=r"pue \(line 1\)"):
        load_config(path, {})
    assert load_config(None, {"pue": 1.2}).pue == 1.2
    assert json.loads(load_config(None, {}).model_dump_json())["pue"] == 1.0
