"""The dashboard in a real browser: `fm-audit dashboard` serves it on a free localhost port and
headless Chromium (Debian's, driven by Playwright) loads every page."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
PAGES = {"": "Audit overview", "capability": "capability/core_mc", "bias": "bias results",
         "multilingual": "Languages at a glance", "misuse": "misuse/derived",
         "compare": "Choose at least 2 run(s)", "samples": "Samples", "energy": "Per model"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard_url(dashboard_reports: Path) -> Iterator[str]:
    """`fm-audit dashboard` on the test runs, stopped (its whole process group) afterwards."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "audit.cli", "dashboard", str(dashboard_reports), "--port",
         str(port)], cwd=Path(__file__).resolve().parent.parent, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not start within 2 minutes")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `make install` installs Debian's chromium as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
            headless=True, args=FLAGS, viewport={"width": 1400, "height": 2400})
        yield context.new_page()
        context.close()


def _load(page, url: str) -> None:
    page.goto(url, timeout=120_000)
    page.wait_for_selector(DONE, timeout=120_000)


def test_every_page_loads_in_chromium(dashboard_url: str, page, tmp_path: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path, expected in PAGES.items():
        _load(page, f"{dashboard_url}/{path}")
        page.get_by_text(expected).first.wait_for(timeout=60_000)
        page.screenshot(path=str(tmp_path / f"{path or 'overview'}.png"))
        assert page.locator('[data-testid="stException"]').count() == 0, path
    # Planted model output on the Samples page: shown as text, never run or linked.
    _load(page, f"{dashboard_url}/samples")
    search = page.get_by_label("Search prompts, outputs and ids")
    search.fill("planted")
    search.press("Enter")
    page.get_by_text('<script>alert("planted")</script>').first.wait_for(timeout=60_000)
    page.wait_for_selector(DONE, timeout=120_000)
    page.screenshot(path=str(tmp_path / "samples-planted.png"))
    assert page.locator('a[href*="example.invalid"]').count() == 0
    assert page.get_by_text("PLANTED-HARMFUL-OUTPUT").count() == 0
    assert not dialogs
