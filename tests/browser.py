"""Helpers of the browser tests: `fm-audit dashboard` on a free localhost port, and a page of
Debian's Chromium driven by Playwright (the test is skipped, saying why, without Chromium)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
"""Streamlit sets this when a page's script has finished running."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve_dashboard(reports: Path) -> Iterator[str]:
    """`fm-audit dashboard reports` on a free port; its URL, and the server (its whole process
    group) stopped afterwards."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "audit.cli", "dashboard", str(reports), "--port", str(port)],
        cwd=Path(__file__).resolve().parent.parent, start_new_session=True,
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


@contextmanager
def chromium_page(profile: Path, width: int, height: int) -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium with a `width` x `height` window."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `make install` installs Debian's chromium as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": width, "height": height})
        try:
            yield context.new_page()
        finally:
            context.close()


def load(page: Any, url: str) -> None:
    """Open `url` and wait until the page's script has run."""
    page.goto(url, timeout=120_000)
    page.wait_for_selector(DONE, timeout=120_000)
