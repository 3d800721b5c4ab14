"""The pages in a real browser: Debian's chromium driven by Playwright against a live server on
a free loopback port. Screenshots of each page go to ``artifacts/screenshots/``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.adapters.web.pages import CHROMIUM_ARGS
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY
from tests.live_server import serving

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, knowledge: Knowledge) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("serve")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'cmvcds.sqlite3'}", examples_dir=ROOT / "examples"
    )
    app = create_app(settings, Clinic(knowledge, today=lambda: TODAY))
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        subprocess.run(["bash", str(ROOT / "tools" / "ensure_chromium.sh")], check=False)
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: run tools/ensure_chromium.sh")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fill_pregnancy(page: Page, weight: str = "64") -> None:
    page.fill("#f-id", "browser-01")
    page.fill("#f-assessed-on", "2026-03-02")
    page.fill("#f-patient-birth-date", "1992-04-11")
    page.fill("#f-patient-weight-kg", weight)
    page.fill("#f-patient-height-cm", "166")
    page.fill("#f-pregnancy-lmp", "2025-12-20")
    rows = [
        ("2026-01-10", "cmv_igg", "negative"),
        ("2026-02-20", "cmv_igg", "positive"),
        ("2026-02-20", "cmv_igm", "positive"),
        ("2026-02-20", "cmv_igg_avidity", "low"),
    ]
    for i, (day, code, result) in enumerate(rows):
        page.fill(f"#f-observations-{i}-date", day)
        page.select_option(f"#f-observations-{i}-code", code)
        page.select_option(f"#f-observations-{i}-result", result)
    page.fill("#f-observations-4-date", "2026-02-20")
    page.select_option("#f-observations-4-code", "creatinine")
    page.fill("#f-observations-4-value", "0.62")
    page.fill("#f-observations-4-unit", "mg/dL")
    page.press("#f-observations-4-unit", "Escape")  # close the unit suggestions (a datalist popup)
    page.press("#f-observations-4-unit", "Tab")


def test_home_lists_the_demo_case(page: Page, server: str) -> None:
    page.goto(server + "/")
    expect(page.get_by_role("link", name="demo-pregnancy-01")).to_be_visible()
    shot(page, "home")
    page.get_by_role("link", name="demo-pregnancy-01").click()
    expect(page.locator('[data-decision="valacyclovir-prevention"]')).to_be_visible()
    shot(page, "demo-assessment")


def test_pregnancy_form_gives_decision_amniocentesis_and_timeline(page: Page, server: str) -> None:
    page.goto(server + "/cases/new?context=pregnancy")
    fill_pregnancy(page)
    shot(page, "pregnancy-form")
    page.click("#assess-button")
    decision = page.locator('[data-decision="valacyclovir-prevention"]')
    expect(decision).to_have_attribute("data-outcome", "recommended")
    expect(decision.locator(".outcome")).to_have_text("Recommended")
    expect(page.locator('tr[data-event="amniocentesis"]')).to_contain_text("2026-05-10")
    timeline = page.locator('svg[data-chart="pregnancy-timeline"]')
    expect(timeline).to_be_visible()
    expect(timeline.locator('[data-event="amniocentesis"]')).to_have_attribute(
        "data-date", "2026-05-10"
    )
    box = timeline.bounding_box()
    assert box is not None and box["width"] > 500
    shot(page, "pregnancy-assessment")


def test_a_bad_input_shows_the_field_error(page: Page, server: str) -> None:
    page.goto(server + "/cases/new?context=pregnancy")
    fill_pregnancy(page, weight="900")
    page.locator("#f-patient-height-cm").dispatch_event(
        "change"
    )  # htmx validates as the clinician types
    error = page.locator("#err-patient-weight-kg")
    expect(error).to_have_text("900 kg is implausible (accepted range 0.3–350 kg)")
    expect(page.locator("#problems")).to_contain_text("patient.weight_kg: 900 kg is implausible")
    shot(page, "pregnancy-form-live-error")
    page.click("#assess-button")
    expect(page.locator("#err-patient-weight-kg")).to_have_text(
        "900 kg is implausible (accepted range 0.3–350 kg)"
    )
    expect(page.locator("#f-patient-weight-kg")).to_have_value("900")
    shot(page, "pregnancy-form-submitted-error")


def test_assessment_prints_to_pdf(server: str) -> None:
    response = httpx.get(server + "/cases/1/assessment.pdf", timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    # to read, not to file: it opens in the browser's tab (the dossier is downloaded instead)
    assert response.headers["content-disposition"].startswith('inline; filename="cmvcds-')
    assert response.content.startswith(b"%PDF")
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "demo-assessment.pdf").write_bytes(response.content)


def test_dose_calculator(page: Page, server: str) -> None:
    page.goto(server + "/dose")
    page.select_option("#f-drug", "valganciclovir")
    page.select_option("#f-indication", "induction")
    page.fill("#f-age", "60")
    page.select_option("#f-sex", "male")
    page.fill("#f-weight", "70")
    page.fill("#f-height", "175")
    page.fill("#f-creatinine", "1.4")
    page.click("#dose-button")
    expect(page.locator('[data-renal="method"]')).to_have_text("cockcroft-gault")
    expect(page.locator('[data-regimen="dose_mg"]')).to_have_text("450")
    shot(page, "dose-calculator")


def test_knowledge_browser(page: Page, server: str) -> None:
    page.goto(server + "/knowledge")
    page.fill("#kb-q", "avidity")
    page.get_by_role("button", name="Search").click()
    expect(page.locator('[data-hit="fhir_valuesets"]')).to_be_visible()
    shot(page, "knowledge-search")


@pytest.mark.parametrize(
    ("question", "audience", "lead", "lang"),
    [
        # Issue 19: a pregnant reader asking in Italian is answered in Italian, in plain words,
        # about the risk to her baby, with no dose and no transplant label.
        (
            "Sono incinta e il test del CMV è positivo: il mio bambino starà bene?",
            "patient",
            "In breve",
            "it",
        ),
        ("Qual è la terapia dell'infezione da CMV in gravidanza?", "clinician", "In breve", "it"),
        ("Is valacyclovir safe for me and my baby during pregnancy?", "patient", "In short", "en"),
        ("Valganciclovir dose after kidney transplant with CrCl 35", "clinician", "In short", "en"),
    ],
)
def test_ask_page_in_both_languages_and_audiences(
    page: Page, server: str, question: str, audience: str, lead: str, lang: str
) -> None:
    page.goto(server + "/ask")
    page.fill("#question", question)
    page.check(f'input[name="audience"][value="{audience}"]')
    page.get_by_role("button", name="Ask").click()
    answer = page.locator("section.answer")
    expect(answer).to_have_attribute("data-covered", "yes")
    expect(answer).to_have_attribute("data-language", lang)
    expect(page.locator("p.summary")).to_contain_text(lead)
    ids = page.locator("div.statement").evaluate_all("els => els.map(e => e.id)")
    if audience == "patient":
        assert not [i for i in ids if i.startswith(("drug-regimens:", "dose-at-crcl:"))], ids
        expect(page.get_by_role("heading", name="Questions to ask your doctor")).to_be_visible()
    if "gravidanza" in question or "pregnancy" in question or "incinta" in question:
        assert not [i for i in ids if i.startswith(("sot-", "hiv-", "valganciclovir-label"))], ids
    if "CrCl 35" in question:
        expect(page.locator("p.summary")).to_contain_text("CrCl ≥ 25 and < 40")
        expect(page.locator("p.summary")).not_to_contain_text("retinitis")
    shot(page, f"ask-{lang}-{audience}-{'dose' if 'CrCl' in question else 'pregnancy'}")


@pytest.mark.parametrize(
    ("question", "reader", "lang"),
    [
        (
            "Sono incinta di 10 settimane e ho un'infezione primaria da CMV: cosa rischia il mio bambino?",
            "patient",
            "it",
        ),
        ("I am pregnant. Is valacyclovir safe for my baby?", "patient", "en"),
        ("Qual è la dose di valganciclovir nel neonato?", "clinician", "it"),
    ],
)
def test_ask_page_infers_the_reader_and_says_what_is_pending_once(
    page: Page, server: str, question: str, reader: str, lang: str
) -> None:
    """As a person does: type the question, leave "Which best describes you?" as it is, press
    Ask. The page says for whom it wrote (from the wording), shows the seed's review steps, and
    says once how many statements are still pending; no statement line repeats a pending status."""
    page.goto(server + "/ask")
    expect(page.locator('input[name="audience"][value="auto"]')).to_be_checked()
    page.fill("#question", question)
    page.get_by_role("button", name="Ask").click()
    answer = page.locator("section.answer")
    expect(answer).to_have_attribute("data-covered", "yes")
    expect(answer).to_have_attribute("data-language", lang)
    written_for = "a patient or family" if reader == "patient" else "a healthcare professional"
    expect(page.locator("p.audience-inferred")).to_contain_text(written_for)
    expect(page.locator("ol.review-steps li")).to_have_count(3)
    pending = page.locator("p.notice").filter(
        has_text="Review status" if lang == "en" else "Stato di revisione"
    )
    expect(pending).to_have_count(1)
    statements = page.locator("div.statement")
    assert statements.count() >= 1
    expect(page.locator("div.statement").filter(has_text="Review: draft")).to_have_count(0)
    ids = statements.evaluate_all("els => els.map(e => e.id)")
    if reader == "patient":
        assert not [i for i in ids if i.startswith(("drug-regimens:", "dose-at-crcl:"))], ids
    shot(page, f"ask-auto-{lang}-{reader}")
