"""An Italian-speaking browser meets the dose page and an Ask answer wholly in Italian (issue 15):
no English word on either page (:mod:`tests.web.english_scan`), each page checked as the journeys
check theirs (screenshots, overflow, axe-core). Switching to Italian by hand while entering a case
is part of the obstetrician's journey (tests/web/test_journeys_clinicians.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.english_scan import english_in
from tests.web.journey_steps import WIDE, check_page, server, site_db  # noqa: F401
from tests.web.test_browser import browser  # noqa: F401  (the shared chromium fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def italian_page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    """An Italian-speaking browser: the language comes from its Accept-Language (the CSP is
    bypassed for axe-core, as on the journeys' pages)."""
    context = browser.new_context(viewport=WIDE, locale="it-IT", bypass_csp=True)
    yield context.new_page()
    context.close()


def test_the_dose_page_reads_wholly_in_italian(italian_page: Page, server: str) -> None:  # noqa: F811
    """The transplant physician computes a kidney recipient's prophylaxis from the Italian form
    (the case of tests/web/test_assessment_summary.py: CrCl 40–59, 450 mg once daily to day
    200): the instruction line, the renal band, the regimen, its reasons and alerts are Italian,
    and no English word is left on the page."""
    page = italian_page
    page.goto(server + "/dose")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    page.get_by_label("Farmaco", exact=True).select_option("valganciclovir")
    page.get_by_label("Indicazione").select_option("prophylaxis")
    page.get_by_label("Organo trapiantato (per la profilassi)").select_option("kidney")
    page.get_by_label("Età (anni)").fill("54")
    page.get_by_label("Sesso").select_option("male")
    page.get_by_label("Peso (kg)").fill("80")
    page.get_by_label("Creatinina sierica").fill("1.8")
    page.get_by_role("button", name="Calcola").click()
    expect(page.locator("#instruction")).to_have_text(
        "Somministrare 450 mg per bocca una volta al giorno fino al giorno 200 dopo il trapianto."
    )
    expect(page.get_by_role("heading", name="Funzione renale")).to_be_visible()
    check_page(page, "dose-it")
    assert english_in(page.content()) == []


def test_the_ask_answer_reads_wholly_in_italian(italian_page: Page, server: str) -> None:  # noqa: F811
    """An obstetrician asks in Italian how long prevention lasts, as a professional: the answer,
    its headings (sources, references, follow-up), review status and buttons are Italian."""
    page = italian_page
    page.goto(server + "/ask")
    expect(page.get_by_role("heading", level=1)).to_have_text("Chiedi a cmvcds")
    page.get_by_label("Domanda (in italiano o in inglese)").fill(
        "Fino a quando si prende il valaciclovir per prevenire l'infezione fetale?"
    )
    page.get_by_label("Professionista sanitario").check()
    page.get_by_role("button", name="Chiedi", exact=True).click()
    expect(page.locator("section.answer")).to_have_attribute("data-covered", "yes")
    expect(page.get_by_role("heading", name="Bibliografia")).to_be_visible()
    expect(page.get_by_role("heading", name="Un'altra domanda?")).to_be_visible()
    expect(page.locator("summary", has_text="Fonte").first).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("Stato di revisione:")
    check_page(page, "ask-it")
    assert english_in(page.content()) == []
