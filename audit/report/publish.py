"""Write a report to disk: the HTML page, the Markdown file, and optionally a PDF.

The PDF is the HTML page printed by headless Chromium, so it shows exactly what the page shows.
Chromium is optional: without it the PDF is skipped with a message naming how to install it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from audit.errors import ReportError
from audit.report.html import render_html
from audit.report.markdown import render_markdown
from audit.report.model import Report
from audit.runfolder import RUN_ID_PATTERN, atomic_write_text

log = logging.getLogger(__name__)

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_S = 120


@dataclass
class Written:
    html: Path
    markdown: Path
    pdf: Path | None
    pdf_note: str = ""


def find_chromium() -> str | None:
    """Path of a headless-capable Chromium or Chrome on PATH, if any."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(browser: str, *args: str) -> list[str]:
    """A headless Chromium invocation that works as root and without a GPU or a display."""
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-dev-shm-usage", *args]


def print_pdf(html: Path, pdf: Path, browser: str) -> None:
    """Print `html` to `pdf` with headless Chromium."""
    command = chromium_command(browser, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                               html.resolve().as_uri())
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=PDF_TIMEOUT_S,
                                check=False)
    except subprocess.TimeoutExpired as exc:
        raise ReportError(f"Chromium did not print {html} within {PDF_TIMEOUT_S} s",
                          fix="retry, or print the HTML page from a browser.") from exc
    if result.returncode != 0 or not pdf.is_file():
        raise ReportError(f"Chromium could not print {html} to PDF: "
                          f"{result.stderr.strip()[-400:]}",
                          fix="check that Chromium starts (`chromium --headless --version`), "
                              "or print the HTML page from a browser.")


def write_report(report: Report, out_dir: Path, stem: str = "report", pdf: bool = False
                 ) -> Written:
    """Write `<stem>.html` and `<stem>.md` under `out_dir` (and `<stem>.pdf` when asked).

    `stem` is a plain file name, so a report cannot be written outside `out_dir`.
    """
    if not RUN_ID_PATTERN.match(stem) or ".." in stem:
        raise ReportError(f"invalid report name {stem!r}",
                          fix="use letters, digits, '.', '_' and '-' only (no slashes, no "
                              "'..'); choose the directory with --out.")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create {out_dir}: {exc.strerror}",
                          fix="choose a writable directory with --out.") from exc
    html_path, md_path = out_dir / f"{stem}.html", out_dir / f"{stem}.md"
    atomic_write_text(html_path, render_html(report))
    atomic_write_text(md_path, render_markdown(report))
    written = Written(html=html_path, markdown=md_path, pdf=None)
    if pdf:
        browser = find_chromium()
        if browser is None:
            written.pdf_note = ("PDF skipped: no Chromium found on PATH. Install it (Debian: "
                                "`apt-get install -y chromium`) or print the HTML page from a "
                                "browser.")
            log.warning(written.pdf_note)
        else:
            written.pdf = out_dir / f"{stem}.pdf"
            print_pdf(html_path, written.pdf, browser)
    return written
