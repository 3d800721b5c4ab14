"""Two clinicians' journeys through the whole course, in Debian's chromium, every form filled from
the page as a person would (no uploads, no typed URL after the start page, every select chosen
from its options), with screenshots at 1400 and 390 px (``artifacts/journeys/``, not committed)
and axe-core on every page reached (``journey_steps.check_page``).

- The obstetrician, in an English-speaking browser, opens a new pregnancy case and switches the
  pages to Italian with the visible switch (issue 15 item 2): the same form comes back in Italian,
  every field found by its Italian label. The serology of a primary infection
  in the first trimester (examples/pregnancy.yaml: valacyclovir prevention recommended) → the
  Law 648/96 dossier with the patient's identification typed at print time, the quantity to
  dispense (111 days × 16 = 1,776 tablets of 500 mg) and the monitoring data → the consent form
  and information sheet in Italian → two months later the case edited: the prevention course
  given, the positive amniocentesis and the ultrasound signs (examples/pregnancy-fetal-treatment
  .yaml: in-utero treatment until delivery) → the timeline from the course given to the treatment
  planned to the EDD → the dossier of the treatment (130 days to the EDD: 2,080 tablets). The
  typed name is in no page served afterwards and not in the database; the same switch brings the
  pages back to English.
- The neonatologist: a symptomatic newborn ("More rows" keeps what was typed; valganciclovir
  recommended, 16 mg/kg: 51.2 mg) → the course started, then an ANC of 400 on day 10: the
  critical hold first, both versions kept → the course recorded as held for toxicity → the blood
  count a week later (ANC 1,200, platelets, Hb): restart, the sources differing on the dose → the course resumed → month 7:
  the course completed on 2026-09-19 (6 months counted from the restart), no further antiviral,
  the follow-up calendar by month and its .ics file → the dose calculator in mg/kg and mL of oral
  solution.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

from tests.web.journey_steps import (  # noqa: F401  (the fixtures: the app as a site runs it)
    check_page,
    fill_row,
    journey_page,
    server,
    site_db,
    therapy_row,
)
from tests.web.test_browser import browser  # noqa: F401  (the shared chromium fixture)

pytestmark = pytest.mark.browser

NAME = "Brambilla Ortensia"


def identify(page: Page) -> None:
    """What the prescriber types on the dossier page just before printing (Italian labels)."""
    page.get_by_label("Paziente (cognome e nome)").fill(NAME)
    page.get_by_label("Data di nascita").fill("11/04/1992")
    page.get_by_label("Codice fiscale").fill("BRMRTN92D51F205H")
    page.get_by_label("Ospedale").fill("Ospedale Maggiore")
    page.get_by_label("Reparto").fill("Ostetricia e Ginecologia")
    page.get_by_label("Medico prescrittore").fill("Dott.ssa Carla Fumagalli")
    page.get_by_role("button", name="Compila il dossier").click()
    expect(page.locator('td[data-print="patient_name"]')).to_have_text(NAME)
    expect(page.locator('td[data-print="ward"]')).to_have_text("Ostetricia e Ginecologia")


def test_obstetrician_from_serology_to_dossier_and_consent_in_italian(
    page: Page,
    server: str,  # noqa: F811
    site_db: str,  # noqa: F811
) -> None:
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="New pregnancy case").first.click()
    expect(page.get_by_label("Last menstrual period")).to_be_visible()
    # Italian from the switch, not from the browser: the same form comes back in Italian.
    page.get_by_role("navigation", name="Language").get_by_role("link", name="IT").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page).to_have_url(server + "/cases/new?context=pregnancy")  # back where it was pressed
    expect(page.get_by_role("heading", level=1)).to_have_text("Nuovo caso: gravidanza")
    expect(page.get_by_role("navigation", name="Lingua")).to_be_visible()
    for legend in ("Caso", "Paziente", "Gravidanza", "Risultati", "Ecografia fetale"):
        expect(page.locator("legend", has_text=legend).first).to_be_visible()
    assert page.get_by_text("Last menstrual period").count() == 0
    page.get_by_label("Identificativo del caso (pseudonimo)").fill("journey-obstetric-648")
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
    fill_row(page, 5, "2026-02-20", "egfr", value="118", unit="mL/min/1.73m2")
    page.locator("#f-ultrasound-0-date").fill("2026-02-27")
    expect(page.get_by_role("columnheader", name="Esame")).to_be_visible()
    check_page(page, "obstetrician-648-form")
    page.get_by_role("button", name="Valuta").click()

    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Valutazione del caso journey-obstetric-648"
    )
    for heading in ("Cosa fare ora", "Decisioni", "Versioni"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Stampa")).to_be_visible()
    decision = page.locator('[data-decision="valacyclovir-prevention"]')
    expect(decision).to_have_attribute("data-outcome", "recommended")
    timeline = page.locator('svg[data-chart="pregnancy-timeline"][data-frame="wide"]')
    expect(timeline).to_be_visible()
    expect(timeline.locator('[data-landmark="40+0"]')).to_have_count(1)  # the EDD
    check_page(page, "obstetrician-648-assessment")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator('svg[data-chart="pregnancy-timeline-narrow"]')).to_be_visible()
    expect(timeline).to_be_hidden()
    page.set_viewport_size({"width": 1400, "height": 900})

    # The dossier: identification typed at print time, the quantity, the monitoring data.
    page.get_by_role("link", name="Dossier Legge 648/96").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Valaciclovir in gravidanza — dossier Legge 648/96"
    )
    identify(page)
    expect(page.locator('[data-dispense="500"]')).to_contain_text(
        "Valaciclovir compresse da 500 mg: 1776 compresse"
    )
    expect(page.locator('[data-dispense="500"]')).to_contain_text("per 111 giorni dal 02/03/2026")
    expect(page.locator('tr[data-pack="038817060"]')).to_contain_text("43")
    expect(page.get_by_role("heading", name="Dati da registrare per il monitoraggio Legge 648/96"))
    expect(page.locator('tr[data-record="amniocentesis"]')).to_contain_text("Amniocentesi")
    check_page(page, "obstetrician-648-dossier")
    with page.expect_download() as download:
        page.get_by_role("button", name="Dossier (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    page.get_by_role("button", name="Consenso e foglio informativo (italiano)").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1).first).to_have_text(
        "Foglio informativo per la paziente: valaciclovir per l'infezione da citomegalovirus "
        "(CMV) in gravidanza"
    )
    expect(page.locator('[data-print="patient_name"]')).to_have_text(NAME)
    expect(page.locator("#consent-form")).to_contain_text("Acconsento")
    expect(page.locator("#information-sheet")).to_contain_text("26 settimane")
    check_page(page, "obstetrician-648-consent-it")
    page.get_by_role("button", name="English").click()  # the English version, on request
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#consent-form")).to_contain_text("I consent")
    expect(page.locator('[data-print="patient_name"]')).to_have_text(NAME)  # kept, never in a URL
    assert NAME not in page.url
    page.get_by_role("link", name="Back to the assessment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("journey-obstetric-648")

    # Two months later: the course given, the amniocentesis positive, signs on ultrasound.
    page.get_by_role("link", name="Modifica il caso").click()
    page.get_by_label("Data della valutazione").fill("2026-05-20")
    therapy_row(
        page, 0, "valacyclovir", "2000", "6",
        indication="pregnancy-prevention", start="2026-03-02", stop="2026-05-19",
    )  # fmt: skip
    fill_row(page, 6, "2026-05-12", "cmv_dna", value="45000", unit="copies/mL")
    page.select_option("#f-observations-6-specimen", "amniotic_fluid")
    page.select_option("#f-observations-6-result", "detected")
    fill_row(page, 7, "2026-05-18", "creatinine", value="0.70", unit="mg/dL")
    page.locator("#f-ultrasound-1-date").fill("2026-05-19")
    page.locator("#f-ultrasound-1-findings").fill("hepatomegaly, ventriculomegaly")
    page.locator("#f-ultrasound-1-ventricle-mm").fill("12")
    page.get_by_label("Cosa è cambiato (conservato con la versione)").fill(
        "Amniocentesi positiva, ecografia"
    )
    check_page(page, "obstetrician-648-edit")
    page.get_by_role("button", name="Salva e rivaluta").click()
    treatment = page.locator('[data-decision="valacyclovir-fetal-treatment"]')
    expect(treatment).to_have_attribute("data-outcome", "recommended")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    timeline = page.locator('svg[data-chart="pregnancy-timeline"][data-frame="wide"]')
    expect(timeline.locator('[data-event="treatment"][data-state="given"]')).to_have_attribute(
        "data-stop", "2026-05-19"
    )
    expect(timeline.locator('[data-state="planned"][data-until="delivery"]')).to_have_attribute(
        "data-start", "2026-05-20"
    )
    expect(timeline.locator('[data-event="amniocentesis-done"]')).to_have_attribute(
        "data-date", "2026-05-12"
    )
    check_page(page, "obstetrician-648-fetal-treatment")

    page.get_by_role("link", name="Dossier Legge 648/96").click()
    identify(page)
    expect(page.locator('[data-dispense="500"]')).to_contain_text("2080 compresse")
    expect(page.locator('[data-dispense="500"]')).to_contain_text("fino alla DPP")
    page.get_by_role("button", name="Consenso e foglio informativo (italiano)").click()
    expect(page.locator("#information-sheet")).to_contain_text("prosegue fino al parto")
    check_page(page, "obstetrician-648-consent-treatment")

    # The identification went into the printed pages only.
    page.goto(server + "/")  # the start page again, as the person opens the app tomorrow
    expect(page.get_by_role("link", name="Nuovo caso in gravidanza").first).to_be_visible()
    page.get_by_role("link", name="journey-obstetric-648").click()
    assert NAME not in page.content()
    page.get_by_role("link", name="Dossier Legge 648/96").click()
    assert NAME not in page.content()
    database = Path(site_db.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert b"journey-obstetric-648" in stored and NAME.encode() not in stored

    # And back to English with the same switch.
    page.go_back()
    page.get_by_role("navigation", name="Lingua").get_by_role("link", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="What to do now")).to_be_visible()


def test_neonatologist_from_birth_to_month_7_with_a_hold_and_a_resume(
    page: Page,
    server: str,  # noqa: F811
) -> None:
    page.goto(server + "/")
    page.get_by_role("link", name="New infant case").first.click()
    page.fill("#f-id", "journey-neonate-hold")
    page.fill("#f-assessed-on", "2026-03-10")
    page.select_option("#f-patient-sex", "male")
    page.fill("#f-patient-birth-date", "2026-03-01")
    page.fill("#f-patient-weight-kg", "3.2")
    page.fill("#f-congenital-gestational-age-at-birth", "38+2")
    page.fill("#f-congenital-birth-weight-kg", "3.2")
    page.select_option("#f-patient-birth-weight-for-gestational-age", "appropriate")
    page.fill("#f-congenital-diagnosis-date", "2026-03-03")
    specimen = page.locator("#f-congenital-diagnosis-specimen")
    assert "urine" in [o.lower() for o in specimen.locator("option").all_inner_texts()]
    specimen.select_option("urine")
    page.fill("#f-congenital-manifestations", "microcephaly, thrombocytopenia, hepatomegaly")
    page.select_option("#f-congenital-hearing", "bilateral_snhl")
    fill_row(page, 0, "2026-03-03", "cmv_dna", result="detected", specimen="urine")
    fill_row(page, 1, "2026-03-09", "weight", value="3.2", unit="kg")
    # "More rows" keeps everything typed so far.
    page.get_by_role("button", name="More rows").click()
    expect(page.locator("#f-observations-15-date")).to_be_visible()
    expect(page.locator("#f-id")).to_have_value("journey-neonate-hold")
    expect(page.locator("#f-congenital-diagnosis-specimen")).to_have_value("urine")
    expect(page.locator("#f-observations-1-value")).to_have_value("3.2")
    fill_row(page, 2, "2026-03-09", "creatinine", value="0.4", unit="mg/dL")
    fill_row(page, 12, "2026-03-09", "anc", value="2800", unit="cells/uL")
    check_page(page, "neonate-birth-form")
    page.click("#assess-button")
    decision = page.locator('[data-decision="valganciclovir-congenital"]')
    expect(decision).to_have_attribute("data-outcome", "recommended")
    expect(page.locator('tr[data-regimen="valganciclovir"]')).to_contain_text("51.2 mg")
    expect(page.locator("#todo")).to_contain_text("valganciclovir")
    calendar = page.locator("#calendar")
    expect(calendar.locator('h3[data-month="2026-03"]')).to_have_text("March 2026")
    check_page(page, "neonate-birth-assessment")

    # Day 10: the course started yesterday, the ANC is 400: hold. The case lives on: the
    # result is added to it and it is re-assessed; both versions are kept.
    page.get_by_role("link", name="Add a result").click()
    expect(page.locator("#f-id")).to_have_value("journey-neonate-hold")
    expect(page.locator("#f-congenital-diagnosis-specimen")).to_have_value("urine")
    page.fill("#f-assessed-on", "2026-03-11")
    therapy_row(
        page, 0, "valganciclovir", "51.2", "12", indication="congenital", start="2026-03-10"
    )
    fill_row(page, 4, "2026-03-11", "anc", value="400", unit="cells/uL")
    page.fill("#f-change", "ANC 400 on day 10")
    page.get_by_role("button", name="Save and re-assess").click()
    first = page.locator(".alerts li").first
    expect(first).to_have_attribute("data-severity", "critical")
    expect(first).to_have_attribute("data-alert", "neutropenia")
    expect(page.locator("#todo li").first).to_contain_text("ANC below 500")
    versions = page.locator("#versions tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("ANC 400 on day 10")
    expect(versions.first).to_contain_text("2026.")
    check_page(page, "neonate-hold")
    page.locator('#versions tr[data-version="1"]').get_by_role("link", name="view").click()
    expect(decision).to_have_attribute("data-outcome", "recommended")
    expect(page.locator('.alerts li[data-alert="neutropenia"]')).to_have_count(0)
    page.get_by_role("link", name="Current version").click()

    # The drug is held: the course is recorded as stopped for toxicity.
    page.get_by_role("link", name="Edit case").click()
    expect(page.locator("#f-therapy-0-start")).to_have_value("2026-03-10")
    page.fill("#f-therapy-0-stop", "2026-03-11")
    page.select_option("#f-therapy-0-stop-reason", "held_toxicity")
    page.fill("#f-change", "valganciclovir held (ANC 400)")
    page.get_by_role("button", name="Save and re-assess").click()
    expect(page.locator("#versions tbody tr")).to_have_count(3)

    # A week later the blood count: ANC 1,200, platelets and Hb normal: restart (every label §5.1
    # limit has a count since the hold; the sources differ on the dose).
    page.get_by_role("link", name="Add a result").click()
    expect(page.locator("#f-therapy-0-stop-reason")).to_have_value("held_toxicity")
    page.fill("#f-assessed-on", "2026-03-18")
    fill_row(page, 5, "2026-03-18", "anc", value="1200", unit="cells/uL")
    fill_row(page, 6, "2026-03-18", "platelets", value="210000", unit="cells/uL")
    fill_row(page, 7, "2026-03-18", "hemoglobin", value="13.5", unit="g/dL")
    page.fill("#f-change", "blood count: ANC 1200")
    page.get_by_role("button", name="Save and re-assess").click()
    expect(decision).to_have_attribute("data-outcome", "recommended")
    expect(decision).to_contain_text("held since 2026-03-11 for toxicity")
    restart = page.locator('.alerts li[data-alert="neutropenia"]')
    expect(restart).to_contain_text("restart")
    expect(page.locator('.alerts li[data-alert="sources-differ"]')).to_be_visible()
    check_page(page, "neonate-restart")

    # Resumed the next day.
    page.get_by_role("link", name="Edit case").click()
    page.fill("#f-assessed-on", "2026-03-19")
    therapy_row(
        page, 1, "valganciclovir", "51.2", "12", indication="congenital", start="2026-03-19"
    )
    page.fill("#f-change", "valganciclovir resumed")
    page.get_by_role("button", name="Save and re-assess").click()
    expect(decision).to_have_attribute("data-outcome", "recommended")
    expect(page.locator('.alerts li[data-severity="critical"]')).to_have_count(0)

    # Month 7: the course completed on 2026-09-19; the month-7 visit's results.
    page.get_by_role("link", name="Edit case").click()
    page.fill("#f-assessed-on", "2026-10-01")
    page.fill("#f-patient-weight-kg", "7.4")
    page.fill("#f-therapy-1-stop", "2026-09-19")
    page.select_option("#f-therapy-1-stop-reason", "completed")
    fill_row(page, 8, "2026-09-30", "weight", value="7.4", unit="kg")
    fill_row(page, 9, "2026-09-30", "anc", value="2100", unit="cells/uL")
    page.fill("#f-change", "month 7: course completed")
    check_page(page, "neonate-month7-form")
    page.get_by_role("button", name="Save and re-assess").click()
    expect(decision).to_have_attribute("data-outcome", "not_indicated")
    expect(decision).to_contain_text("from 2026-03-10 to 2026-09-19 completed")
    expect(page.locator("#versions tbody tr")).to_have_count(6)
    months = calendar.locator("h3")
    expect(months.first).to_have_text("December 2026")
    expect(calendar.locator('li[data-day="2027-03-01"] [data-event="ophthalmology"]')).to_be_visible()
    check_page(page, "neonate-month7-calendar")
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to a calendar (.ics)").click()
    events = Calendar.from_ical(Path(download.value.path()).read_bytes()).walk("VEVENT")
    days = [e.decoded("dtstart").isoformat() for e in events]
    listed = calendar.locator("li[data-day]").evaluate_all("els => els.map(e => e.dataset.day)")
    assert sorted(set(days)) == sorted(listed)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in days)

    # The dose calculator for the same baby: mg/kg, and mL of the oral solution.
    page.get_by_role("link", name="Dose calculator").first.click()
    page.select_option("#f-drug", "valganciclovir")
    page.select_option("#f-indication", "congenital")
    page.fill("#f-birth-date", "2026-03-01")
    page.fill("#f-weight", "3.2")
    page.click("#dose-button")
    instruction = page.locator("#instruction")
    expect(instruction).to_contain_text("51.2 mg")
    expect(instruction).to_contain_text("16 mg/kg")
    expect(instruction).to_contain_text("mL")
    check_page(page, "neonate-dose")
