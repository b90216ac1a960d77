"""Per-language results laid out to be read: one table per family, each narrow enough for a
printed A4 page, nothing cut, and no HTML page wider than the screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.report.build import build_report, language_name
from audit.report.model import LANGUAGE_COLUMNS, LanguageRow, LanguageTable, MetricRow
from audit.report.publish import find_chromium, write_report
from tests.handmade_runs import (
    LANGUAGES,
    MISUSE_METRICS,
    MULTILINGUAL_METRICS,
    wide_run,
)


def _cell(value: float) -> MetricRow:
    return MetricRow(suite="s", metric="m", label="m", description="", family="", area="",
                     unit="proportion", better="higher", value=value, ci_low=None,
                     ci_high=None, n=1, ci_method="none")


def test_parts_split_by_family_and_width_keep_every_cell_once() -> None:
    columns = [("s", f"m{i}", f"M{i}", "proportion") for i in range(9)]
    families = ["multilingual"] * 7 + ["misuse"] * 2
    cells = {(lang, i): _cell(i / 10) for lang in ("eng", "fra") for i in range(9)}
    # Hausa has values only in the misuse columns: it must not appear as a blank row elsewhere.
    cells.update({("hau", i): _cell(0.5) for i in (7, 8)})
    rows = [LanguageRow(lang, lang, "", [cells.get((lang, i)) for i in range(9)])
            for lang in ("eng", "fra", "hau")]
    table = LanguageTable(columns=columns, rows=rows, reference="eng", families=families)
    parts = table.parts(3)
    assert [p.title for p in parts] == ["Multilingual (1 of 3)", "Multilingual (2 of 3)",
                                        "Multilingual (3 of 3)", "Misuse"]
    assert [len(p.columns) for p in parts] == [3, 3, 1, 2]
    assert [[r.language for r in p.rows] for p in parts] == [["eng", "fra"]] * 3 + [
        ["eng", "fra", "hau"]]
    laid_out = [(row.language, column, cell) for part in parts for row in part.rows
                for column, cell in zip(part.columns, row.cells, strict=True) if cell]
    original = [(row.language, column, cell) for row in rows
                for column, cell in zip(columns, row.cells, strict=True) if cell]
    assert sorted(laid_out, key=repr) == sorted(original, key=repr)


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory):
    """A run with 16 languages, 14 multilingual metrics and 3 misuse metrics per language:
    the shape that made a 28-column table."""
    return wide_run(tmp_path_factory.mktemp("reports"), "wide")


def test_per_language_tables_are_one_per_family_and_at_most_six_metrics(wide) -> None:
    table = build_report([wide]).runs[0].languages
    parts = table.parts(LANGUAGE_COLUMNS)
    assert [p.title for p in parts] == ["Multilingual (1 of 3)", "Multilingual (2 of 3)",
                                        "Multilingual (3 of 3)", "Misuse"]
    assert all(len(p.columns) <= LANGUAGE_COLUMNS for p in parts)
    assert [len(p.rows) for p in parts] == [16, 16, 16, 6]


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: pytest.TempPathFactory):
    if find_chromium() is None:
        pytest.skip("no Chromium: `make install` installs Debian's chromium as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser.new_page(viewport={"width": 1280, "height": 900})
        browser.close()


@pytest.mark.slow
def test_html_report_is_no_wider_than_the_screen(wide, browser_page, tmp_path: Path
                                                 ) -> None:
    written = write_report(build_report([wide]), tmp_path)
    browser_page.goto(written.html.resolve().as_uri())
    width = browser_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width} px wide"
    browser_page.screenshot(path=str(tmp_path / "languages.png"), full_page=True)


@pytest.mark.slow
def test_pdf_prints_every_language_and_metric_on_landscape_pages(wide, tmp_path: Path
                                                                 ) -> None:
    if find_chromium() is None:
        pytest.skip("no Chromium: `make install` installs Debian's chromium as root")
    from pypdf import PdfReader

    written = write_report(build_report([wide]), tmp_path, pdf=True)
    pages = PdfReader(written.pdf).pages
    # pypdf splits words where a table cell wraps them: compare without any whitespace.
    texts = ["".join(page.extract_text().split()) for page in pages]
    language_pages = [i for i, text in enumerate(texts) if "LanguageTier" in text]
    assert language_pages, texts
    for index in language_pages:
        box = pages[index].mediabox
        assert box.width > box.height, f"page {index + 1} is not landscape"
    printed = "".join(texts[i] for i in language_pages)
    for code in LANGUAGES:
        assert "".join(f"{language_name(code)} ({code})".split()) in printed, code
    for metric in MULTILINGUAL_METRICS:
        assert f"Multilingualmetric{metric[-2:]}(multilingual)" in printed, metric
    for metric in MISUSE_METRICS:
        assert f"Refusal{metric[-1]}(misuse/harmful)" in printed, metric
    # one page per table: 16 languages fit, none spills onto a page of its own
    assert len(language_pages) == 4
