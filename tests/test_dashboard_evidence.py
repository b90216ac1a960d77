"""The dashboard in Chromium on hand-made runs (no model): a run of 16 languages by tier and a
`peft:` fine-tune of it, both signed off, the second's signed report edited afterwards. One
dashboard start serves every assertion: the Overview shows the sign-offs as verified now (and
the lineage), the Multilingual heat map lists all 16 languages and 14 metrics within the
content area of a 1,280 px window, Compare opens with the summary of what changed, and Energy
states the PUE and the facility energy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import DONE, chromium_page, load, serve_dashboard
from tests.dashboard_runs import BASELINE, REVIEWER, TUNED_PUE, evidence_reports
from tests.handmade_runs import LANGUAGES, MULTILINGUAL_METRICS

pytestmark = pytest.mark.slow

WIDTH = 1280
HEAT_MAP_BOXES = """() => Array.from(document.querySelectorAll('.vega-embed svg'))
  .filter(svg => Array.from(svg.querySelectorAll('.role-legend-title text'))
                      .some(t => t.textContent === 'Standing'))
  .map(svg => ({right: svg.getBoundingClientRect().right,
                labels: Array.from(svg.querySelectorAll('.role-axis-label text'))
                             .map(t => t.textContent)}))"""
MAIN_RIGHT = ("() => document.querySelector('[data-testid=stMainBlockContainer]')"
              ".getBoundingClientRect().right")


def _open(page, name: str, shots: Path) -> None:
    """Go to a page through the sidebar (keeping the chosen runs) and screenshot it."""
    page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
    page.wait_for_selector(DONE, timeout=120_000)
    page.get_by_role("heading", name=name if name != "Compare" else "Compare runs",
                     exact=True).first.wait_for(timeout=60_000)
    page.wait_for_selector(DONE, timeout=120_000)
    page.screenshot(path=str(shots / f"{name.lower()}.png"))
    assert page.locator('[data-testid="stException"]').count() == 0, name


def test_overview_heat_map_and_compare_show_the_evidence(tmp_path_factory) -> None:
    reports = evidence_reports(tmp_path_factory.mktemp("evidence-reports"))
    shots = tmp_path_factory.mktemp("evidence-screenshots")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with serve_dashboard(reports) as url, chromium_page(profile, WIDTH, 5000) as page:
        load(page, url)
        # The newest run is chosen by default; add the other one in the sidebar.
        page.get_by_test_id("stMultiSelect").first.locator("input").click()
        page.keyboard.type(BASELINE)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.get_by_text(f"{BASELINE}: approve by {REVIEWER}").wait_for(timeout=60_000)
        page.wait_for_selector(DONE, timeout=120_000)
        page.screenshot(path=str(shots / "overview.png"))
        page.get_by_text("checked now: VERIFIED: the run's files").wait_for()
        page.get_by_text("checked now: CHANGED AFTER SIGN-OFF: signed/1/report.md "
                         "(changed)").wait_for()
        page.get_by_text("Base model: packaged:smollm2-135m-instruct").wait_for()

        _open(page, "Multilingual", shots)
        page.get_by_role("heading", name="Languages at a glance").wait_for()
        page.wait_for_selector(".vega-embed svg .role-legend-title", timeout=60_000)
        heat_maps = page.evaluate(HEAT_MAP_BOXES)
        labels = {label for chart in heat_maps for label in chart["labels"]}
        assert set(LANGUAGES) <= labels
        assert {f"Multilingual metric {m[-2:]}" for m in MULTILINGUAL_METRICS} <= labels
        main_right = page.evaluate(MAIN_RIGHT)
        assert all(chart["right"] <= main_right for chart in heat_maps), heat_maps
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

        _open(page, "Compare", shots)
        page.get_by_role("heading", name="What changed").wait_for()
        page.get_by_text("compared values changed significantly").wait_for()
        page.get_by_role("heading", name="By language").wait_for()

        _open(page, "Energy", shots)
        page.get_by_text(f"PUE {TUNED_PUE:g}: declared in the run config.").wait_for()
        page.get_by_text("Facility energy (IT energy x PUE)").first.wait_for()
