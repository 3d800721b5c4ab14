"""The dose calculator's field for drugs the patient does not tolerate (debt22), filled by hand in
chromium, in English and in Italian.

The kidney recipient of tests/web/test_i18n_browser.py (54-year-old man, 80 kg, creatinine
1.8 mg/dL: Cockcroft-Gault (140 − 54) × 80 / (72 × 1.8) = 53.1 mL/min) gets valganciclovir
prophylaxis 450 mg once daily (VALCYTE US PI Table 3, CrCl 40–59). With valganciclovir listed
as not tolerated, no dose is given: specialist review and a critical drug-intolerance alert
(dosing policy: a recorded intolerance is a specialist's decision). With ganciclovir listed, the
same: the label contraindicates valganciclovir after hypersensitivity to ganciclovir (its
prodrug; VALCYTE §4). A name that is not a drug is refused, naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.english_scan import english_in
from tests.web.test_browser import browser, server  # noqa: F401  (shared chromium, live app)

pytestmark = pytest.mark.browser


@pytest.fixture(params=["en-GB", "it-IT"])
def page_in(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(locale=request.param)
    yield context.new_page()
    context.close()


#: The form's labels in each language (what a clinician reads and clicks).
LABELS = {
    "en": {"drug": "Drug", "indication": "Indication", "organ": "Transplanted organ (for prophylaxis)",
           "age": "Age (years)", "sex": "Sex", "weight": "Weight (kg)",
           "creatinine": "Serum creatinine", "intolerances": "Intolerances (drug INNs, comma-separated)",
           "button": "Calculate"},
    "it": {"drug": "Farmaco", "indication": "Indicazione",
           "organ": "Organo trapiantato (per la profilassi)", "age": "Età (anni)", "sex": "Sesso",
           "weight": "Peso (kg)", "creatinine": "Creatinina sierica",
           "intolerances": "Intolleranze (DCI dei farmaci, separate da virgola)",
           "button": "Calcola"},
}  # fmt: skip


def _fill(page: Page, server: str, intolerances: str) -> str:  # noqa: F811
    page.goto(server + "/dose")
    language = page.locator("html").get_attribute("lang") or "en"
    words = LABELS[language]
    page.get_by_label(words["drug"], exact=True).select_option("valganciclovir")
    page.get_by_label(words["indication"]).select_option("prophylaxis")
    page.get_by_label(words["organ"]).select_option("kidney")
    page.get_by_label(words["age"]).fill("54")
    page.get_by_label(words["sex"]).select_option("male")
    page.get_by_label(words["weight"]).fill("80")
    page.get_by_label(words["creatinine"], exact=False).first.fill("1.8")
    page.get_by_label(words["intolerances"]).fill(intolerances)
    page.get_by_role("button", name=words["button"]).click()
    return language


def test_without_an_intolerance_the_label_dose_is_given(page_in: Page, server: str) -> None:  # noqa: F811
    _fill(page_in, server, "")
    expect(page_in.locator('[data-regimen="dose_mg"]')).to_have_text("450")
    expect(page_in.locator('[data-alert="drug-intolerance"]')).to_have_count(0)


@pytest.mark.parametrize("listed", ["valganciclovir", "Ganciclovir"])
def test_a_drug_not_tolerated_is_never_dosed(page_in: Page, server: str, listed: str) -> None:  # noqa: F811
    language = _fill(page_in, server, listed)
    expect(page_in.locator("[data-outcome]")).to_have_attribute("data-outcome", "specialist_review")
    expect(page_in.locator('[data-regimen="dose_mg"]')).to_have_count(0)
    expect(page_in.locator('[data-alert="drug-intolerance"]').first).to_be_visible()
    # what was typed stays in the field
    expect(page_in.locator("#f-intolerances")).to_have_value(listed)
    if language == "it":
        assert english_in(page_in.content()) == []


def test_a_name_that_is_not_a_drug_is_refused_naming_the_field(
    page_in: Page,
    server: str,  # noqa: F811
) -> None:
    _fill(page_in, server, "aspirinx")
    problems = page_in.locator("ul.problems")
    expect(problems).to_contain_text("intolerances")
    expect(problems).to_contain_text("aspirinx")
