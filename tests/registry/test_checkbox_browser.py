"""In Debian's chromium, by hand: ticked checkboxes are saved (probe12 finding 2), numbers in Italian.

A site data-entry user ticks AIFA Table 1 ultrasound findings (seed 000's criteria for in-utero
treatment) and a newborn's manifestations at birth, saves, and sees them ticked again; the
REDCap export carries ``field___code`` = 1 for exactly the ticked codes. Before the fix every
ticked save was refused (``',1' is not a choice of 'us_findings'``). On the Italian page, the
valacyclovir daily dose "8.000" is refused as a thousands separator, "8000" is saved as 8000.
On both databases (the probe met the refusal on each).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from cmvcds.adapters.web.pages import CHROMIUM_ARGS
from cmvcds.registry import exports
from cmvcds.registry.models import Subject

from .conftest import PASSWORD, World
from .helpers import pregnancy
from .test_audit_browser import live  # noqa: F401  (the fixture: the pages on a real server)

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")


def _log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/registry/login")
    page.fill("input[name=username]", "entry_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _tick_and_save(page: Page, url: str, field: str, codes: list[str], button: str) -> str:
    page.goto(url)
    for code in codes:
        page.check(f"input[name=c_{field}][value='{code}']")
    page.fill("input[name=reason]", "recorded from the chart")
    page.click(f"button:text-is('{button}')")
    page.wait_for_load_state()
    return " ".join(page.locator("main").inner_text().split())


def _records(world: World) -> list[dict[str, str]]:
    with world.registry.session(world.dm) as s:
        files = exports.export(s, world.dm, fmt="redcap", profile="central").files
    name = next(n for n in files if n.endswith("records.csv"))
    return list(csv.DictReader(io.StringIO(files[name])))


def test_boxes_ticked_by_hand_are_saved_and_exported(live: str, world: World) -> None:  # noqa: F811
    a = world.entry_a
    with world.registry.session(a) as s:
        key = pregnancy(s, a, treated=True, transmitted=True, mrn="HRN-BOX-1",
                        newborn={"ccmv_at_birth": "1", "nb_birth_date": "2026-03-01"})  # fmt: skip
        child = s.scalar(select(Subject.pseudonym).where(Subject.mother_id.is_not(None)))
    us = f"{live}/registry/subjects/{key}/amniocentesis/ultrasound?instance=1"
    nb = f"{live}/registry/subjects/{child}/newborn_birth/newborn_birth"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        page = browser.new_page()
        _log_in(page, live)
        page.goto(us)
        page.fill("input[name=f_us_date]", "2026-03-01")
        page.check("input[name=c_us_findings][value='1']")
        page.check("input[name=c_us_findings][value='3']")
        page.click("button:text-is('Save')")
        page.wait_for_selector("text=Saved.")
        page.goto(us)
        assert page.is_checked("input[name=c_us_findings][value='1']")
        assert page.is_checked("input[name=c_us_findings][value='3']")
        assert not page.is_checked("input[name=c_us_findings][value='2']")
        told = _tick_and_save(page, nb, "nb_manifestations", ["2", "7"], "Save")
        assert "Saved." in told, told
        # Italian page: a thousands separator is refused, not read as 8 mg
        page = browser.new_context(locale="it-IT").new_page()  # Accept-Language: it
        _log_in(page, live)
        vacv = f"{live}/registry/subjects/{key}/valacyclovir_start/valacyclovir"
        page.goto(vacv)
        page.fill("input[name=f_vacv_daily_mg]", "8.000")
        page.fill("input[name=reason]", "dose dalla cartella")
        page.click("button:text-is('Salva')")
        refused = " ".join(page.locator("main").inner_text().split())
        page.fill("input[name=f_vacv_daily_mg]", "8000")
        page.fill("input[name=reason]", "dose dalla cartella")
        page.click("button:text-is('Salva')")
        page.wait_for_selector("text=Salvato.")
        browser.close()
    assert "vacv_daily_mg" in refused and "separatore delle migliaia" in refused, refused
    rows = _records(world)
    us_rows = [r for r in rows if r["redcap_repeat_instrument"] == "ultrasound"]
    assert [
        (r["us_findings___1"], r["us_findings___2"], r["us_findings___3"]) for r in us_rows
    ] == [("1", "0", "1")]
    nb_rows = [r for r in rows if r.get("nb_manifestations___2") == "1"]
    assert len(nb_rows) == 1 and nb_rows[0]["nb_manifestations___7"] == "1"
    assert nb_rows[0]["nb_manifestations___1"] == "0"
    assert {r["vacv_daily_mg"] for r in rows} - {""} == {"8000"}
