"""The conformance page as a person sees it: headless Chromium (Debian's package) opens reports/conformance.html
of a run that has failures, clicks into a failing feature, and the failing checks open with their exchanges.

Screenshots of the page and of the drill-down are saved to reports/screenshots/ (not a verdict: for people)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.integration.suite_runner import ROOT, run_suite

CHROMIUM = "/usr/bin/chromium"
STRICT_TARGET = ROOT / "tests" / "faults" / "orthanc-strict.toml"  # Orthanc without its deviations: FAILs to show
SCREENSHOTS = ROOT / "reports" / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (.ci/install does it)")
def test_a_person_clicks_into_a_failing_feature(orthanc: OrthancServer, tmp_path: Path) -> None:
    run = run_suite(
        tmp_path,
        *("--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", str(STRICT_TARGET)),
        *("-k", "rendered or tutorial"),
        strict_deviations=False,
    )
    assert run.returncode != 0, "Orthanc without its declared deviations fails"
    failing = sorted(nodeid for nodeid, outcome in run.outcomes.items() if outcome == "FAIL")
    feature = run.conformance["checks"][failing[0]]["feature"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto((tmp_path / "conformance.html").as_uri())
            assert page.title() == f"DICOMweb conformance: Orthanc {run.server_version}"
            assert page.locator("#verdict").inner_text().startswith("NOT CONFORMANT")
            page.screenshot(path=str(SCREENSHOTS / "feature-matrix.png"))
            feature_details = page.locator(f'[id="f-{feature}"]')
            assert not feature_details.evaluate("element => element.open")
            page.locator(f'table.matrix a[data-open="f-{feature}"][data-filter="FAIL"]').click()
            assert feature_details.evaluate("element => element.open")
            opened = page.locator(f'[id="f-{feature}"] details.check[open]')
            assert opened.count() >= 1
            assert {opened.nth(i).get_attribute("data-outcome") for i in range(opened.count())} == {"FAIL"}
            first = opened.first.inner_text()
            assert "expected:" in first
            assert "reproduce: curl" in first
            page.screenshot(path=str(SCREENSHOTS / "drill-down.png"))
            _a_failing_client_cell_opens_its_check(page, run.conformance)
        finally:
            browser.close()


def _a_failing_client_cell_opens_its_check(page: Page, document: dict[str, Any]) -> None:
    """dicomweb-client's rendered request (no Accept) gets 400 from Orthanc: its view-images cell FAILs, and a
    click on it opens that check with its exchange."""
    cell = document["clients"]["matrix"]["dicomweb-client"]["view-images"]
    assert cell["outcome"] == "FAIL", cell
    page.locator("table.clients a.o-FAIL").first.click()
    anchor = sorted(document["checks"]).index(cell["not_working"][0])
    check = page.locator(f'[id="c-{anchor}"]')
    assert check.evaluate("element => element.open")
    assert check.get_attribute("data-outcome") == "FAIL"
    assert "reproduce: curl" in check.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "client-matrix-cell.png"))
