"""The transplant physician's journey in Debian's chromium, every form filled from the page (no
uploads, no typed URL after the start page): a new kidney recipient, donor CMV IgG positive and
recipient negative (D+/R−), through valganciclovir prophylaxis and the dose calculator for the
same patient, a rising viral load after prophylaxis ends, pre-emptive treatment, to a refractory
episode, its resistance report, and the same episode with the dose entered as 900 mg twice
daily (too much for her kidneys: the critical alert comes first).

Worked from the sources the pack cites: Kotton 2018/2025 SOT consensus (D+/R− kidney:
valganciclovir prophylaxis to day 200, Valcyte label renal bands: CrCl 40–59 → 450 mg once
daily for prevention, 450 mg twice daily for treatment; CrCl 25–39 → 450 mg every 2 days for
prevention), the site's pre-emptive threshold (examples/settings.yaml: 1,000 IU/mL) and Chemaly
2019 (refractory: a rise > 1 log10 after at least 2 weeks of appropriately dosed therapy). UL97
C592G is a low-level ganciclovir resistance mutation (Chou; the pack's resistance tables).

Each page reached is photographed at 1400 and 390 px and checked with axe-core
(``journey_steps.check_page``).
"""

from __future__ import annotations

import re

import pytest
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
CASE = "journey-tx-refractory"


def test_transplant_physician_from_a_new_kidney_recipient_to_a_refractory_episode(
    page: Page,
    server: str,  # noqa: F811
) -> None:
    # 1. A new kidney recipient, D+/R−, five days after the transplant.
    page.goto(server + "/")
    check_page(page, "tx-home")
    page.get_by_role("link", name="New transplant case").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("transplant")
    organ = page.locator("#f-transplant-organ")
    assert "kidney" in organ.locator("option").all_inner_texts()
    page.fill("#f-id", CASE)
    page.fill("#f-assessed-on", "2026-03-06")
    page.select_option("#f-patient-sex", "male")
    page.fill("#f-patient-age-years", "54")
    page.fill("#f-patient-weight-kg", "80")
    page.fill("#f-patient-height-cm", "178")
    organ.select_option("kidney")
    page.fill("#f-transplant-date", "2026-03-01")
    page.select_option("#f-transplant-donor-cmv-igg", "positive")
    page.select_option("#f-transplant-recipient-cmv-igg", "negative")
    page.fill("#f-transplant-co-medications", "tacrolimus, mycophenolate")
    fill_row(page, 0, "2026-03-05", "creatinine", value="1.8", unit="mg/dL")
    fill_row(page, 1, "2026-03-05", "anc", value="3200", unit="cells/uL")
    check_page(page, "tx-new-case-form")
    page.click("#assess-button")
    prophylaxis = page.locator('[data-decision="antiviral-prophylaxis"]')
    expect(prophylaxis).to_have_attribute("data-outcome", "recommended")
    # What to do now, first on the page: the drug, its dose and until when. CrCl
    # (Cockcroft-Gault, 54 y, 80 kg, 1.8 mg/dL) ≈ 56 mL/min: the 40–59 band, 450 mg once
    # daily, to day 200 after the transplant (2026-09-17).
    expect(page.locator("#todo")).to_contain_text("valganciclovir 450 mg")
    expect(page.locator("#todo")).to_contain_text("2026-09-17")
    expect(page.locator('tr[data-regimen="valganciclovir"]')).to_contain_text("450 mg")
    check_page(page, "tx-prophylaxis")

    # 2. The dose calculator for the same patient: the same band; a measured 24-h creatinine
    # clearance of 30 mL/min takes over from Cockcroft-Gault (25–39: every 2 days); the EU label.
    page.get_by_role("link", name="Dose calculator").first.click()
    page.select_option("#f-drug", "valganciclovir")
    page.select_option("#f-indication", "prophylaxis")
    page.select_option("#f-organ", "kidney")
    page.fill("#f-age", "54")
    page.select_option("#f-sex", "male")
    page.fill("#f-weight", "80")
    page.fill("#f-height", "178")
    page.fill("#f-creatinine", "1.8")
    page.click("#dose-button")
    expect(page.locator("#instruction")).to_have_text(
        re.compile(r"^Give 450 mg by mouth once daily")
    )
    expect(page.locator('[data-renal="band"]')).to_contain_text("40")
    check_page(page, "tx-dose")
    page.fill("#f-crcl-measured", "30")
    page.click("#dose-button")
    expect(page.locator("#f-crcl-measured")).to_have_value("30")
    # The measured 30 mL/min and the creatinine's Cockcroft-Gault 53 mL/min fall in different
    # bands: no dose on either, both shown (probe11 S4, fix11b); the physician trusts the
    # 24-h collection and clears the creatinine.
    expect(page.locator(".dose-result")).to_contain_text("Contradictory renal function")
    expect(page.locator(".dose-result")).to_contain_text("450 mg every 48 h")
    expect(page.locator("#instruction")).to_have_count(0)
    page.fill("#f-creatinine", "")
    page.click("#dose-button")
    expect(page.locator("#instruction")).to_have_text(
        re.compile(r"^Give 450 mg by mouth every 2 days")
    )
    page.select_option("#f-region", "eu")
    page.click("#dose-button")
    expect(page.locator(".dose-result")).to_contain_text("EU")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#instruction").inner_text()

    # 3. Three weeks after prophylaxis ended: the surveillance viral load is 10,000 IU/mL,
    # above the site's 1,000 IU/mL threshold. The physician finds the case in the list and
    # adds the results.
    page.get_by_role("link", name="Cases").first.click()
    page.get_by_role("link", name=CASE).click()
    page.get_by_role("link", name="Add a result").click()
    expect(page.locator("#f-transplant-organ")).to_have_value("kidney")
    expect(page.locator("#f-observations-0-value")).to_have_value("1.8")
    page.fill("#f-assessed-on", "2026-10-01")
    therapy_row(page, 0, "valganciclovir", "450", "24",
                indication="prophylaxis", start="2026-03-06", stop="2026-09-17")  # fmt: skip
    fill_row(page, 2, "2026-09-30", "cmv_dna", value="10000", unit="IU/mL", specimen="plasma")
    fill_row(page, 3, "2026-09-30", "creatinine", value="1.6", unit="mg/dL")
    page.fill("#f-change", "prophylaxis ended; viral load of 30 September")
    check_page(page, "tx-rising-load-form")
    page.get_by_role("button", name="Save and re-assess").click()
    preemptive = page.locator('[data-decision="preemptive-therapy"]')
    expect(preemptive).to_have_attribute("data-outcome", "recommended")
    expect(preemptive).to_contain_text("start pre-emptive valganciclovir")
    expect(preemptive).to_contain_text("10000 IU/mL")
    expect(page.locator("#todo")).to_contain_text("valganciclovir 450 mg by mouth twice daily")
    check_page(page, "tx-preemptive")

    # 4. Treatment started on 1 October at the renally adjusted dose the page gave (CrCl
    # (140 − 54) × 80 / (72 × 1.6) ≈ 59.7 mL/min: the 40–59 band, 450 mg twice daily);
    # eighteen days later the viral load is 200,000 IU/mL (> 1 log10 up) and a UL97 genotype
    # is back.
    page.get_by_role("link", name="Edit case").click()
    expect(page.locator("#f-observations-2-value")).to_have_value("10000")
    page.fill("#f-assessed-on", "2026-10-19")
    therapy_row(page, 1, "valganciclovir", "450", "12", indication="preemptive", start="2026-10-01")
    fill_row(page, 4, "2026-10-18", "creatinine", value="1.6", unit="mg/dL")
    fill_row(page, 5, "2026-10-19", "cmv_dna", value="200000", unit="IU/mL", specimen="plasma")
    page.fill("#f-genotype-0-date", "2026-10-19")
    page.fill("#f-genotype-0-mutations", "UL97:C592G")
    page.fill("#f-genotype-0-genes-tested", "UL97, UL54")
    page.fill("#f-change", "viral load rising on treatment; genotype")
    check_page(page, "tx-refractory-form")
    page.get_by_role("button", name="Save and re-assess").click()
    treatment = page.locator('[data-decision="antiviral-treatment"]')
    expect(treatment).to_have_attribute("data-outcome", "specialist_review")
    expect(treatment).to_contain_text("refractory")
    alerts = page.locator(".alerts li")
    expect(page.locator('.alerts li[data-alert="refractory-cmv"]')).to_be_visible()
    expect(page.locator('[data-decision="resistance-genotyping"]')).to_be_visible()
    # appropriately dosed: no dose alert, the refractory episode is the news
    expect(page.locator('.alerts li[data-alert^="dose-"]')).to_have_count(0)
    assert alerts.count() >= 1
    expect(page.locator("#versions tbody tr")).to_have_count(3)
    check_page(page, "tx-refractory")
    # The same assessment in Italian: the alerts and reasons are the pack's Italian rows.
    page.locator('a[data-lang="it"]').click()
    refractory = page.locator('.alerts li[data-alert="refractory-cmv"]')
    expect(refractory).to_contain_text("Infezione da CMV refrattaria: plasma UI/mL 200000 il 2026-10-19")
    expect(page.locator("#todo")).to_contain_text("Somministrare valganciclovir 450 mg per bocca due volte al giorno")
    assert "Not yet verified" not in page.locator("main").inner_text()
    check_page(page, "tx-refractory-it")
    page.locator('a[data-lang="en"]').click()

    # 5. The resistance page for the genotype, typed as the lab report gives it.
    page.get_by_role("link", name="Resistance").first.click()
    page.get_by_label("Mutations").fill("UL97:C592G")
    page.get_by_label("Genes tested (optional)").fill("UL97, UL54")
    page.get_by_role("button", name="Interpret").click()
    report = page.locator("main")
    expect(report).to_contain_text("C592G")
    ganciclovir = page.locator("tr", has_text=re.compile(r"^\s*ganciclovir", re.I)).first
    expect(ganciclovir).to_contain_text(re.compile("low", re.I))
    check_page(page, "tx-resistance")

    # 6. The course corrected to what was given: 900 mg twice daily, the dose for normal renal
    # function, twice the 450 mg twice daily of her CrCl near 60 mL/min. Still refractory (the
    # dose is not below target), and the most urgent first: the critical renal-dose alert.
    page.get_by_role("link", name="Cases").first.click()
    page.get_by_role("link", name=CASE).click()
    page.get_by_role("link", name="Edit case").click()
    page.fill("#f-therapy-1-dose-mg", "900")
    page.fill("#f-change", "course corrected: 900 mg twice daily given")
    page.get_by_role("button", name="Save and re-assess").click()
    expect(treatment).to_have_attribute("data-outcome", "specialist_review")
    expect(treatment).to_contain_text("refractory")
    expect(page.locator('.alerts li[data-alert="refractory-cmv"]')).to_be_visible()
    expect(alerts.first).to_have_attribute("data-severity", "critical")
    expect(alerts.first).to_have_attribute("data-alert", "dose-renal-adjustment")
    first_todo = page.locator("#todo li").first.inner_text()
    assert first_todo and first_todo in alerts.first.inner_text()
    expect(page.locator("#versions tbody tr")).to_have_count(4)
    check_page(page, "tx-overdosed")
