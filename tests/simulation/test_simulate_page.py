"""The screening-simulation page in Debian's chromium, driven as a user would (issue 21):
open the page, choose a strategy, set a small cohort, submit, read the report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.web.test_browser import browser, server  # noqa: F401  (the shared chromium and app fixtures)

pytestmark = pytest.mark.browser



def _run_small(page: Page, strategy: Locator) -> Locator:
    """Choose ``strategy`` alone, 2,000 women and 2 PSA draws of 200, submit; the report."""
    for box in page.locator("input[name=strategy]").all():
        box.uncheck()
    strategy.check()
    page.fill("#f-n", "2000")
    page.fill("#f-psa-draws", "2")
    page.fill("#f-psa-n", "200")
    page.click("button[type=submit]")
    return page.locator("#simulation-report")


def test_a_user_runs_a_small_simulation_and_reads_the_report(server: str, browser: Browser) -> None:  # noqa: F811
    page = browser.new_page()
    page.goto(f"{server}/simulate")
    page.fill("#f-seed", "5")
    page.select_option("#f-population", "apulia-under-25")
    report = _run_small(page, page.locator("input[value=first-trimester]"))
    expect(report).to_be_visible(timeout=120_000)  # the job's page reloads until the run is done
    expect(report).to_contain_text("population Apulia, 2016-2019, women under 25 (seroprevalence 55.6%)")
    expect(report).to_contain_text("Women given valacyclovir (prevention)")
    expect(report.locator("table.simulation thead th")).to_have_text(["", "No screening", "First-trimester serology"])
    expect(report.locator("svg").first).to_be_visible()
    expect(report).to_contain_text("Shahar-Nissan")
    assert "/simulate/jobs/" in page.url  # the run's own page, which a reload shows again
    with page.expect_download() as download:
        page.click("#simulation-pdf")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000  # the report with its charts, printed
    page.close()


def test_the_run_and_its_report_in_italian(server: str, browser: Browser) -> None:  # noqa: F811
    """Switched to Italian (IT), the form, the job's page and the report read in Italian: the
    strategies, the population, the headings, the outcome rows, the charts' captions, the
    parameters; the sources as written."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server}/simulate")
    page.click("nav.languages a[data-lang=it]")
    expect(page.locator("h1")).to_have_text("Simulazione dello screening")
    page.select_option("#f-population", label="Puglia, 2016-2019, donne di 40 anni e oltre (80,6%)")
    report = _run_small(page, page.get_by_label("Consigli igienici alla prima visita, nessuna sierologia"))
    expect(report).to_be_visible(timeout=120_000)
    assert "/simulate/jobs/" in page.url
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(report.locator("h2")).to_have_text(["Risultati per 100.000 gravidanze", "Grafici", "Parametri e loro fonti"])
    expect(report.locator("table.simulation thead th")).to_have_text(["", "Nessuno screening", "Consigli igienici"])
    expect(report.locator("table.simulation tbody th").first).to_have_text("Infezioni primarie materne")
    expect(report).to_contain_text("popolazione Puglia, 2016-2019, donne di 40 anni e oltre (sieroprevalenza 80,6%)")
    expect(report.locator("figcaption").first).to_have_text("Esiti per 100.000 gravidanze per strategia.")
    expect(report).to_contain_text("Rischio relativo di infezione primaria dopo i consigli igienici (dalla prima visita)")
    expect(report).to_contain_text("Revello")  # the sources as written
    expect(report).not_to_contain_text("Fetal infections")
    context.close()


def test_a_longer_run_shows_its_progress_then_its_report(server: str, browser: Browser) -> None:  # noqa: F811
    """25 parts of work (50,000 women in 5 chunks, 20 PSA draws): the page shows a progress bar
    that advances, reloading itself, and then the report in place of the bar."""
    page = browser.new_page()
    page.goto(f"{server}/simulate")
    page.fill("#f-n", "50000")
    page.fill("#f-psa-draws", "20")
    page.fill("#f-psa-n", "2000")
    page.click("button[type=submit]")
    progress = page.locator("#simulation-progress")
    expect(progress).to_contain_text("Simulation running")
    expect(progress).to_contain_text(re.compile(r"\d+ of 25 parts done"), timeout=30_000)
    expect(page.locator("#simulation-report")).to_contain_text("Fetal infections", timeout=300_000)
    expect(progress).to_have_count(0)
    page.close()


def test_an_unknown_run_is_not_found(server: str, browser: Browser) -> None:  # noqa: F811
    page = browser.new_page()
    response = page.goto(f"{server}/simulate/jobs/no-such-run")
    assert response is not None and response.status == 404
    page.close()


def test_a_too_large_run_is_refused_with_its_limit(server: str, browser: Browser) -> None:  # noqa: F811
    page = browser.new_page()
    page.goto(f"{server}/simulate")
    page.fill("#f-n", "10000000")
    page.click("button[type=submit]")
    expect(page.locator(".errors")).to_contain_text("n: must lie between 1 and 50,000")
    page.close()
