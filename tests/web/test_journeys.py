"""One journey per user, in Debian's chromium, filling every form from the page as a person would:
no uploads, no typed URLs after the first page, every select chosen from its options.

- the transplant physician: a new kidney D+/R− recipient (organ select) → the assessment with its
  valganciclovir dose → the dose calculator for the same patient (organ, measured CrCl, EU label,
  copy) → seven months later the case edited into a refractory episode (rising viral load on
  induction, UL97 genotype): specialist review, the critical renal-dose alert first, two versions;
- the neonatologist: a symptomatic newborn (diagnostic specimen select, "More rows" keeps what was
  typed) → the assessment with the mg/kg dose → the next day's ANC of 400 added: the critical
  hold alert first, both versions kept → the dose calculator in mg/kg and mL of oral solution;
- the study coordinator: ``cmvcds serve --demo-registry`` as ``make run`` starts it → first login
  with the demo user documented in the README → enrol a subject → fill her enrolment form →
  an export downloaded that contains her.

Each journey saves screenshots at 1400 and 390 px to ``artifacts/journeys/`` and checks that
the 390 px page has no horizontal overflow.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from cmvcds.adapters.api.app import create_app
from cmvcds.adapters.api.service import Clinic
from cmvcds.adapters.api.settings import Settings
from cmvcds.knowledge import Knowledge
from tests.conftest import TODAY
from tests.live_server import free_port, serving
from tests.web.test_browser import browser  # noqa: F401  (the shared chromium fixture)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "journeys"


@pytest.fixture(scope="module")
def site_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database of the ``server`` fixture."""
    return f"sqlite:///{tmp_path_factory.mktemp('journeys') / 'cmvcds.sqlite3'}"


@pytest.fixture(scope="module")
def server(site_db: str, knowledge: Knowledge) -> Iterator[str]:
    """The app as a site runs it: its settings file (examples/settings.yaml), the suite's date."""
    settings = Settings(
        database_url=site_db,
        examples_dir=ROOT / "examples",
        site_settings=ROOT / "examples" / "settings.yaml",
    )
    clinic = Clinic.from_settings(settings)
    clinic.today = lambda: TODAY
    app = create_app(settings, clinic)
    with serving(app) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def shots(page: Page, name: str) -> None:
    """Screenshots at 1400 and 390 px; at 390 px nothing may stick out sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.screenshot(path=str(SHOTS / f"{name}-1400.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow} px wider than a 390 px screen"
    page.set_viewport_size({"width": 1400, "height": 900})


def fill_row(page: Page, i: int, day: str, code: str, **cells: str) -> None:
    page.fill(f"#f-observations-{i}-date", day)
    page.select_option(f"#f-observations-{i}-code", code)
    for name, value in cells.items():
        if name in ("result", "specimen"):
            page.select_option(f"#f-observations-{i}-{name}", value)
        else:
            page.fill(f"#f-observations-{i}-{name}", value)


def test_transplant_physician_kidney_recipient_to_dose(page: Page, server: str) -> None:
    page.goto(server + "/")
    page.get_by_role("link", name="New transplant case").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("transplant")
    organ = page.locator("#f-transplant-organ")
    assert "kidney" in organ.locator("option").all_inner_texts()
    page.fill("#f-id", "journey-kidney-01")
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
    shots(page, "transplant-form")
    page.click("#assess-button")
    decision = page.locator('[data-decision="antiviral-prophylaxis"]')
    expect(decision).to_have_attribute("data-outcome", "recommended")
    # What to do now, first on the page: the drug, its dose and until when.
    todo = page.locator("#todo")
    expect(todo).to_contain_text("valganciclovir 450 mg")
    expect(todo).to_contain_text("2026-09-17")
    expect(page.locator('tr[data-regimen="valganciclovir"]')).to_contain_text("450 mg")
    shots(page, "transplant-assessment")

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
    shots(page, "transplant-dose")

    # A measured 24-h creatinine clearance of 30 mL/min takes over from Cockcroft-Gault.
    page.fill("#f-crcl-measured", "30")
    page.click("#dose-button")
    expect(page.locator("#f-crcl-measured")).to_have_value("30")
    expect(page.locator("#instruction")).to_have_text(
        re.compile(r"^Give 450 mg by mouth every 2 days")
    )
    # The EU label (SmPC) can be chosen and is named in the answer.
    page.select_option("#f-region", "eu")
    page.click("#dose-button")
    expect(page.locator(".dose-result")).to_contain_text("EU")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#instruction").inner_text()

    # Seven months later: CMV syndrome on induction, the viral load rising, a UL97 genotype.
    page.get_by_role("link", name="Cases").first.click()
    page.get_by_role("link", name="journey-kidney-01").click()
    page.get_by_role("link", name="Edit case").click()
    expect(page.locator("#f-transplant-organ")).to_have_value("kidney")
    expect(page.locator("#f-observations-0-value")).to_have_value("1.8")
    page.fill("#f-assessed-on", "2026-10-19")
    page.select_option("#f-presentation-disease", "cmv_syndrome")
    page.select_option("#f-presentation-severity", "moderate")
    page.select_option("#f-presentation-course", "stable")
    fill_row(page, 2, "2026-09-30", "cmv_dna", value="10000", unit="IU/mL", specimen="plasma")
    fill_row(page, 3, "2026-10-18", "creatinine", value="1.6", unit="mg/dL")
    fill_row(page, 4, "2026-10-19", "cmv_dna", value="200000", unit="IU/mL", specimen="plasma")
    for i, (dose, every, start, stop, indication) in enumerate(
        [
            ("450", "24", "2026-03-06", "2026-09-17", "prophylaxis"),
            ("900", "12", "2026-10-01", "", "induction"),
        ]
    ):
        page.select_option(f"#f-therapy-{i}-drug", "valganciclovir")
        page.fill(f"#f-therapy-{i}-dose-mg", dose)
        page.fill(f"#f-therapy-{i}-every-h", every)
        page.select_option(f"#f-therapy-{i}-route", "oral")
        page.select_option(f"#f-therapy-{i}-indication", indication)
        page.fill(f"#f-therapy-{i}-start", start)
        if stop:
            page.fill(f"#f-therapy-{i}-stop", stop)
    page.fill("#f-genotype-0-date", "2026-10-19")
    page.fill("#f-genotype-0-mutations", "UL97:C592G")
    page.fill("#f-genotype-0-genes-tested", "UL97, UL54")
    page.fill("#f-change", "CMV syndrome, rising viral load, genotype")
    shots(page, "transplant-refractory-form")
    page.get_by_role("button", name="Save and re-assess").click()
    treatment = page.locator('[data-decision="antiviral-treatment"]')
    expect(treatment).to_have_attribute("data-outcome", "specialist_review")
    expect(treatment).to_contain_text("refractory")
    expect(page.locator('.alerts li[data-alert="refractory-cmv"]')).to_be_visible()
    # The most urgent first: 900 mg twice daily is too much for a CrCl near 60 mL/min.
    expect(page.locator(".alerts li").first).to_have_attribute("data-severity", "critical")
    expect(page.locator(".alerts li").first).to_have_attribute(
        "data-alert", "dose-renal-adjustment"
    )
    first_todo = page.locator("#todo li").first.inner_text()
    assert first_todo and first_todo in page.locator(".alerts li").first.inner_text()
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    shots(page, "transplant-refractory-assessment")


def test_neonatologist_enters_a_congenital_case(page: Page, server: str) -> None:
    page.goto(server + "/")
    page.get_by_role("link", name="New infant case").first.click()
    page.fill("#f-id", "journey-congenital-01")
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
    expect(page.locator("#f-id")).to_have_value("journey-congenital-01")
    expect(page.locator("#f-congenital-diagnosis-specimen")).to_have_value("urine")
    expect(page.locator("#f-observations-1-value")).to_have_value("3.2")
    fill_row(page, 2, "2026-03-09", "creatinine", value="0.4", unit="mg/dL")
    fill_row(page, 12, "2026-03-09", "anc", value="2800", unit="cells/uL")
    shots(page, "congenital-form")
    page.click("#assess-button")
    decision = page.locator('[data-decision="valganciclovir-congenital"]')
    expect(decision).to_have_attribute("data-outcome", "recommended")
    regimen = page.locator('tr[data-regimen="valganciclovir"]')
    expect(regimen).to_contain_text("51.2 mg")
    expect(page.locator("#todo")).to_contain_text("valganciclovir")
    shots(page, "congenital-assessment")

    # The next day's blood count: ANC 400. The case lives on: add the result and re-assess.
    page.get_by_role("link", name="Add a result").click()
    expect(page.locator("#f-id")).to_have_value("journey-congenital-01")
    expect(page.locator("#f-congenital-diagnosis-specimen")).to_have_value("urine")
    fill_row(page, 4, "2026-03-10", "anc", value="400", unit="cells/uL")
    page.fill("#f-change", "ANC of 10 March added")
    page.get_by_role("button", name="Save and re-assess").click()
    first_alert = page.locator(".alerts li").first
    expect(first_alert).to_have_attribute("data-severity", "critical")
    expect(first_alert).to_have_attribute("data-alert", "neutropenia")
    expect(page.locator("#todo li").first).to_contain_text("ANC below 500")
    versions = page.locator("#versions tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("ANC of 10 March added")
    expect(versions.first).to_contain_text("2026.")
    shots(page, "congenital-hold")
    page.locator('#versions tr[data-version="1"]').get_by_role("link", name="view").click()
    expect(page.locator('[data-decision="valganciclovir-congenital"]')).to_have_attribute(
        "data-outcome", "recommended"
    )
    page.get_by_role("link", name="Current version").click()

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
    shots(page, "congenital-dose")


def _documented_demo_login(role: str) -> tuple[str, str]:
    """The demo user and password of ``role`` as the README documents them."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\|\s*`?{role}`?\s*\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|", text, re.M)
    assert row, f"README documents no demo user for {role}"
    return row.group(1), row.group(2)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``cmvcds serve`` as ``make run`` starts it, on a fresh database in a fresh folder."""
    folder = tmp_path_factory.mktemp("make-run")
    port = free_port()
    env = dict(os.environ)
    env.pop("CMVCDS_DATABASE_URL", None)
    env["CMVCDS_EXAMPLES_DIR"] = str(ROOT / "examples")
    command = [str(Path(sys.executable).parent / "cmvcds"), "serve", "--port", str(port)]
    command += _make_run_flags()
    # stderr to a file, not a pipe nobody drains: the server logs one JSON line per request
    log = folder / "serve.log"
    process = subprocess.Popen(command, cwd=folder, env=env, stderr=log.open("w"), text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/api/v1/healthz", timeout=2).status_code < 500:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"cmvcds serve did not start: {log.read_text()}")
        time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(20)


def _make_run_flags() -> list[str]:
    """The flags the Makefile's ``run`` target passes to ``cmvcds serve``."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^run:.*\n(?:\t.*\n)*?\t.*cmvcds serve(?P<flags>[^\n]*)", makefile, re.M)
    assert found, "the Makefile's run target does not start cmvcds serve"
    return found.group("flags").split()


def test_coordinator_first_login_to_an_export(page: Page, demo_run: str) -> None:
    username, password = _documented_demo_login("site_investigator")
    page.goto(demo_run + "/")
    page.get_by_role("link", name="Registry").first.click()
    expect(page.get_by_role("heading", name="Registry login")).to_be_visible()
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".registry-nav")).to_contain_text(username)
    shots(page, "registry-dashboard")
    page.get_by_role("link", name="Subjects").first.click()
    page.get_by_role("link", name="Enrol a subject").click()
    page.get_by_label("Hospital record number").fill("HRN-0042")
    page.get_by_label("Information-sheet version").fill("1.0")
    page.get_by_role("button", name="Enrol").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^[A-Z][A-Z0-9]+-M[A-Z0-9]{7}$"))
    pseudonym = heading.inner_text()
    shots(page, "registry-subject")
    page.get_by_role("link", name=re.compile("^enrolment")).first.click()
    page.get_by_label("Date of enrolment").fill("2026-11-20")
    page.get_by_label("Number of fetuses").fill("1")
    page.get_by_role("combobox", name=re.compile("^Written informed consent")).select_option(
        label="Yes"
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    shots(page, "registry-form")
    page.get_by_role("link", name="Exports").first.click()
    page.get_by_role("combobox", name=re.compile("^Format")).select_option("redcap")
    page.get_by_role("combobox", name=re.compile("^Profile")).select_option("site")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    path = download.value.path()
    with zipfile.ZipFile(path) as archive:
        data = "".join(archive.read(n).decode() for n in archive.namelist())
    assert pseudonym in data
    shots(page, "registry-exports")
