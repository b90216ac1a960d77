"""The dashboard in a real browser: `fm-audit dashboard` serves it on a free localhost port and
headless Chromium (Debian's, driven by Playwright) loads every page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import DONE, chromium_page, load, serve_dashboard

pytestmark = pytest.mark.slow

PAGES = {"": "Audit overview", "capability": "capability/core_mc", "bias": "bias results",
         "multilingual": "Languages at a glance", "misuse": "misuse/derived",
         "compare": "Choose at least 2 run(s)", "samples": "Samples", "energy": "Per model"}


@pytest.fixture(scope="module")
def dashboard_url(dashboard_reports: Path) -> Iterator[str]:
    """`fm-audit dashboard` on the test runs."""
    with serve_dashboard(dashboard_reports) as url:
        yield url


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    with chromium_page(tmp_path_factory.mktemp("chromium-profile"), 1400, 2400) as opened:
        yield opened


def test_every_page_loads_in_chromium(dashboard_url: str, page, tmp_path: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path, expected in PAGES.items():
        load(page, f"{dashboard_url}/{path}")
        page.get_by_text(expected).first.wait_for(timeout=60_000)
        page.screenshot(path=str(tmp_path / f"{path or 'overview'}.png"))
        assert page.locator('[data-testid="stException"]').count() == 0, path
    # Planted model output on the Samples page: shown as text, never run or linked.
    load(page, f"{dashboard_url}/samples")
    search = page.get_by_label("Search prompts, outputs and ids")
    search.fill("planted")
    search.press("Enter")
    page.get_by_text('<script>alert("planted")</script>').first.wait_for(timeout=60_000)
    page.wait_for_selector(DONE, timeout=120_000)
    page.screenshot(path=str(tmp_path / "samples-planted.png"))
    assert page.locator('a[href*="example.invalid"]').count() == 0
    assert page.get_by_text("PLANTED-HARMFUL-OUTPUT").count() == 0
    assert not dialogs
