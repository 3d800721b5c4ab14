"""The obstetrician switches the pages to Italian with the visible IT | EN switch and enters a
pregnancy case by hand in Debian's chromium (issue 15 item 2): every field found by its Italian
label, every select chosen from its options; the assessment's headings come back in Italian and
the language stays chosen from page to page. The case is examples/pregnancy.yaml's (design.md §3:
primary infection by seroconversion in the first trimester), so the answer is known: valacyclovir
prevention recommended.

An Italian-speaking browser then meets the dose page and an Ask answer wholly in Italian: no
English word on either page (:mod:`tests.web.english_scan`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.english_scan import english_in
from tests.web.test_browser import browser  # noqa: F401  (the shared chromium fixture)
from tests.web.test_journeys import fill_row, server, shots, site_db  # noqa: F401

pytestmark = pytest.mark.browser


def _speaking(browser: Browser, locale: str) -> Iterator[Page]:  # noqa: F811
    """A page of a browser whose language (Accept-Language) is ``locale``."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale=locale)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    # An English-speaking browser: Italian must come from the switch, not from the header.
    yield from _speaking(browser, "en-GB")


def test_obstetrician_switches_to_italian_and_enters_a_pregnancy_case(
    page: Page,
    server: str,  # noqa: F811
) -> None:
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="New pregnancy case").first.click()
    expect(page.get_by_label("Last menstrual period")).to_be_visible()

    switch = page.get_by_role("navigation", name="Language")
    switch.get_by_role("link", name="IT").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page).to_have_url(server + "/cases/new?context=pregnancy")  # back where it was pressed
    expect(page.get_by_role("heading", level=1)).to_have_text("Nuovo caso: gravidanza")
    expect(page.get_by_role("navigation", name="Lingua")).to_be_visible()
    for legend in ("Caso", "Paziente", "Gravidanza", "Risultati", "Ecografia fetale"):
        expect(page.locator("legend", has_text=legend).first).to_be_visible()
    assert page.get_by_text("Last menstrual period").count() == 0

    page.get_by_label("Identificativo del caso (pseudonimo)").fill("journey-it-gravidanza-01")
    page.get_by_label("Data della valutazione").fill("2026-03-02")
    page.get_by_label("Data di nascita").fill("1992-04-11")
    page.get_by_label("Peso (kg)").fill("64")
    page.get_by_label("Altezza (cm)").fill("166")
    page.get_by_label("Ultima mestruazione").fill("2025-12-20")
    page.get_by_label("Feti", exact=True).fill("1")
    expect(page.get_by_label("Amniocentesi programmata il")).to_be_visible()
    fill_row(page, 0, "2026-01-10", "cmv_igg", result="negative")
    fill_row(page, 1, "2026-02-20", "cmv_igg", result="positive")
    fill_row(page, 2, "2026-02-20", "cmv_igm", result="positive")
    fill_row(page, 3, "2026-02-20", "cmv_igg_avidity", result="low")
    fill_row(page, 4, "2026-02-20", "creatinine", value="0.62", unit="mg/dL")
    page.locator("#f-ultrasound-0-date").fill("2026-02-27")
    expect(page.get_by_role("columnheader", name="Esame")).to_be_visible()
    shots(page, "obstetrician-it-form")
    page.get_by_role("button", name="Valuta").click()

    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Valutazione del caso journey-it-gravidanza-01"
    )
    for heading in ("Cosa fare ora", "Decisioni", "Versioni"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    decision = page.locator('[data-decision="valacyclovir-prevention"]')
    expect(decision).to_have_attribute("data-outcome", "recommended")
    expect(page.get_by_role("button", name="Stampa")).to_be_visible()
    shots(page, "obstetrician-it-assessment")

    page.get_by_role("link", name="Dossier Legge 648/96").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Valaciclovir in gravidanza — dossier Legge 648/96"
    )
    page.go_back()

    # And back to English with the same switch.
    page.get_by_role("navigation", name="Lingua").get_by_role("link", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="What to do now")).to_be_visible()


@pytest.fixture
def italian_page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    # An Italian-speaking browser: the language comes from its Accept-Language.
    yield from _speaking(browser, "it-IT")


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
    shots(page, "dose-it")
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
    shots(page, "ask-it")
    assert english_in(page.content()) == []
