"""The study coordinator's journey in Debian's chromium, on the registry ``make run`` starts,
every form filled from the page (no uploads, no typed URL after the start page):

the administrator (a demo user the README documents) creates the coordinator's account → the
coordinator's first login → the pages switched to Italian → a pregnant woman enrolled with her
consent → her enrolment and diagnosis forms (a future date refused by the hard date check, in
Italian) → two laboratory results, the second with "add another instance" → back in English, the
audit trail filtered to her → a REDCap export downloaded that holds both instances → the
analyses → the site investigator documented in the README logs in, finds her enrolment form as
saved (in English) and enrols the next woman in English.

Each page reached is photographed at 1400 and 390 px and checked with axe-core
(``journey_steps.check_page``).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.web.journey_steps import (  # noqa: F401  (the fixtures: make run's registry)
    check_page,
    demo_run,
    documented_demo_login,
    journey_page,
    log_in,
)
from tests.web.test_browser import browser  # noqa: F401  (the shared chromium fixture)

pytestmark = pytest.mark.browser

COORDINATOR, PASSWORD = "coord-rossi", "a-long-enough-password"


def test_coordinator_from_first_login_to_an_export_and_the_analyses(
    page: Page,
    demo_run: str,  # noqa: F811
) -> None:
    # The administrator gives the coordinator an account at the demo site.
    admin, admin_password = documented_demo_login("administrator")
    page.goto(demo_run + "/")
    page.get_by_role("link", name="Registry").first.click()
    check_page(page, "coord-login")
    log_in(page, admin, admin_password)
    page.get_by_role("link", name="Users and sites").click()
    page.get_by_label("User name").fill(COORDINATOR)
    page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    page.get_by_role("combobox", name=re.compile("^Role")).select_option("site_investigator")
    page.get_by_role("combobox", name=re.compile(r"^Site \(site roles only\)")).select_option("DEMO01")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("table").first).to_contain_text(COORDINATOR)
    check_page(page, "coord-admin-users")
    page.get_by_role("button", name="Log out").click()

    # First login of the coordinator; the pages in Italian from here.
    log_in(page, COORDINATOR, PASSWORD)
    page.locator('a[data-lang="it"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    check_page(page, "coord-dashboard-it")
    page.get_by_role("link", name="Soggetti").first.click()
    page.get_by_role("link", name="Arruola un soggetto").click()
    page.get_by_label("Numero di cartella ospedaliera").fill("HRN-7781")
    page.get_by_label("Arruolato il").fill("2026-11-20")
    page.get_by_label("Versione del foglio informativo").fill("2.1")
    page.get_by_label("Firmato il").fill("2026-11-19")
    page.get_by_label("Consenso scritto al trattamento off-label ai sensi della Legge 648/96").check()
    check_page(page, "coord-enrol-it")
    page.get_by_role("button", name="Arruola").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^DEMO01-M[A-Z0-9]{7}$"))
    pseudonym = heading.inner_text()
    expect(page.get_by_role("status")).to_contain_text(f"Arruolato come {pseudonym}")
    check_page(page, "coord-subject-it")

    # Her enrolment form.
    page.get_by_role("link", name=re.compile(r"^arruolamento \(")).first.click()
    page.get_by_label("Data di arruolamento").fill("2026-11-20")
    page.get_by_label("Numero di feti").fill("1")
    page.get_by_role("combobox", name=re.compile("^Consenso informato scritto")).select_option(
        label="Sì"
    )
    expect(page.locator('[data-date-rule="enrolment_date"]')).to_contain_text(
        "non prima di: la data di firma del consenso (controllo non bloccante"
    )
    page.get_by_role("button", name="Salva").click()
    expect(page.get_by_role("status")).to_have_text("Salvato.")
    check_page(page, "coord-enrolment-form-it")

    # The diagnosis: a date typed a year ahead is refused by the hard check, then corrected.
    page.get_by_role("link", name=pseudonym).first.click()
    page.get_by_role("link", name=re.compile(r"^infezione materna \(")).first.click()
    diagnosis = page.get_by_label("Data della diagnosi di infezione primaria materna")
    diagnosis.fill("2027-10-02")
    page.get_by_role("combobox", name=re.compile("^Criterio di infezione primaria")).select_option(
        label="Sieroconversione in gravidanza"
    )
    page.get_by_role("button", name="Salva").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Una data futura non può essere già stata osservata; controllare la data."
    )
    expect(diagnosis).to_have_value("2027-10-02")  # what was typed is kept for correction
    check_page(page, "coord-future-date-refused-it")
    diagnosis.fill("2026-10-02")
    page.get_by_role("button", name="Salva").click()
    expect(page.get_by_role("status")).to_have_text("Salvato.")

    # Two laboratory results: the second one with "add another instance".
    page.get_by_role("link", name=pseudonym).first.click()
    page.locator('a[href$="/maternal_diagnosis/laboratory"]').click()
    page.get_by_label("Data del prelievo").fill("2026-10-02")
    page.get_by_role("combobox", name=re.compile("^Esame")).select_option(label="Creatinina (mg/dL)")
    page.get_by_label("Risultato (numerico)").fill("0,6")  # the Italian page: decimal comma (ADR 0032-fix12), stored 0.6
    page.get_by_role("button", name="Salva").click()
    expect(page.get_by_role("status")).to_have_text("Salvato.")
    page.get_by_role("link", name="+ Aggiungi un'altra istanza: laboratorio").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("laboratorio #2")
    page.get_by_label("Data del prelievo").fill("2026-10-16")
    page.get_by_role("combobox", name=re.compile("^Esame")).select_option(
        label="Indice di avidità delle IgG anti-CMV"
    )
    page.get_by_label("Risultato (numerico)").fill("0,22")
    page.get_by_role("button", name="Salva").click()
    expect(page.get_by_role("status")).to_have_text("Salvato.")
    check_page(page, "coord-laboratory-2-it")
    page.get_by_role("link", name=pseudonym).first.click()
    expect(page.locator('a[data-instance="2"]')).to_contain_text("laboratorio #2")
    check_page(page, "coord-event-grid-it")

    # Back in English: the audit trail of this subject, an export, the analyses.
    page.locator('a[data-lang="en"]').click()
    page.get_by_role("link", name="Audit trail").first.click()
    page.get_by_label("Subject").fill(pseudonym)
    page.get_by_role("combobox", name=re.compile("^User")).select_option(COORDINATOR)
    page.get_by_role("combobox", name=re.compile("^Form")).select_option(label="laboratory")
    page.get_by_role("button", name="Filter").click()
    fields = page.locator("tbody tr td:nth-child(8)").all_inner_texts()
    assert fields and all(" · laboratory #" in f for f in fields)
    assert any(f.endswith("laboratory #2 · Date of sample") for f in fields)
    check_page(page, "coord-audit")

    page.get_by_role("link", name="Exports").first.click()
    page.get_by_role("combobox", name=re.compile("^Format")).select_option("redcap")
    page.get_by_role("combobox", name=re.compile("^Profile")).select_option("site")
    check_page(page, "coord-exports")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        name = next(n for n in archive.namelist() if n.endswith("records.csv"))
        rows = list(csv.DictReader(io.StringIO(archive.read(name).decode())))
    hers = [r for r in rows if pseudonym in r.values()]
    labs = {r["redcap_repeat_instance"]: r for r in hers
            if r.get("redcap_repeat_instrument") == "laboratory"}  # fmt: skip
    assert labs["1"]["lab_value"] == "0.6" and labs["2"]["lab_value"] == "0.22"
    assert labs["2"]["lab_date"] == "2026-10-16"

    page.get_by_role("link", name="Analyses").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Analyses")
    expect(page.locator("main")).to_contain_text(
        "Transmission by the time of amniocentesis (CMV DNA in amniotic fluid)"
    )
    check_page(page, "coord-analyses")
    # and the same analyses in Italian
    page.locator('a[data-lang="it"]').click()
    expect(page.locator("main")).to_contain_text(
        "Trasmissione al momento dell'amniocentesi (CMV DNA nel liquido amniotico)"
    )
    check_page(page, "coord-analyses-it")

    # The site investigator the README documents logs in and finds her, her enrolment as saved.
    page.locator('a[data-lang="en"]').click()
    page.get_by_role("button", name="Log out").click()
    investigator, investigator_password = documented_demo_login("site_investigator")
    page.get_by_role("link", name="Registry").first.click()
    log_in(page, investigator, investigator_password)
    page.get_by_role("link", name="Subjects").first.click()
    page.get_by_role("link", name=pseudonym).first.click()
    page.get_by_role("link", name=re.compile("^enrolment")).first.click()
    expect(page.get_by_label("Date of enrolment")).to_have_value("2026-11-20")
    expect(page.get_by_label("Number of fetuses")).to_have_value("1")
    check_page(page, "coord-investigator-enrolment")
    # and enrols the next woman, in English
    page.get_by_role("link", name="Subjects").first.click()
    page.get_by_role("link", name="Enrol a subject").click()
    page.get_by_label("Hospital record number").fill("HRN-0042")
    page.get_by_label("Information-sheet version").fill("1.0")
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^DEMO01-M[A-Z0-9]{7}$"))
    expect(page.get_by_role("heading", level=1)).not_to_have_text(pseudonym)
