"""In Debian's chromium: two users on one form (probe8 W2), and Back/Reload after a save (R5).

entry_a and pi_a open the same enrolment form (fetuses = 1). entry_a saves 2 with a reason and
lands on the form again by a redirect: Back and Reload show pages, never "Confirm Form
Resubmission", and post nothing. pi_a, whose page still shows 1, saves 3 and is told the form
was changed by entry_a since it was opened, with both values on the page; 2 stays recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import func, select

from cmvcds.adapters.web.pages import CHROMIUM_ARGS
from cmvcds.registry.models import AuditEntry, DataValue
from cmvcds.registry.services import crf

from .conftest import PASSWORD, World
from .helpers import enrol
from .test_audit_browser import live  # noqa: F401  (the fixture: the pages on a real server)

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/registry/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _entries(world: World) -> int:
    with world.registry.session(None) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_a_stale_save_is_refused_and_back_after_a_save_posts_nothing(
    live: str,  # noqa: F811
    world: World,
) -> None:
    if world.registry.engine.dialect.name != "sqlite":
        pytest.skip("one backend is enough for the browser; the HTTP tests cover both")
    with world.registry.session(world.entry_a) as s:
        key = enrol(s, world.entry_a, "HRN-BROWSER-1")
        crf.save_form(s, world.entry_a, key, "maternal_diagnosis", "enrolment",
                      {"enrolment_date": "2026-01-12", "fetuses": "1"})  # fmt: skip
    form = f"{live}/registry/subjects/{key}/maternal_diagnosis/enrolment"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        rossi, bianchi = browser.new_context().new_page(), browser.new_context().new_page()
        _log_in(rossi, live, "entry_a")
        _log_in(bianchi, live, "pi_a")
        rossi.goto(form)
        bianchi.goto(form)
        rossi.fill("input[name=f_fetuses]", "2")
        rossi.fill("input[name=reason]", "twins seen on scan")
        rossi.click("button:text-is('Save')")
        rossi.wait_for_selector("text=Saved.")
        assert "saved=1" in rossi.url
        after_save = _entries(world)
        rossi.reload()  # a GET: nothing is posted again
        rossi.go_back()  # the form as first opened, from the history, not a resubmission
        back = rossi.content()
        assert "ERR_CACHE_MISS" not in back and 'name="f_fetuses"' in back
        assert _entries(world) == after_save
        bianchi.fill("input[name=f_fetuses]", "3")
        bianchi.fill("input[name=reason]", "triplets")
        bianchi.click("button:text-is('Save')")
        told = " ".join(bianchi.locator("main").inner_text().split())
        typed = bianchi.input_value("input[name=f_fetuses]")
        browser.close()
    assert "changed by entry_a at" in told and "nothing was saved" in told
    assert "Recorded now: 2" in told and "your page showed 1" in told and typed == "3"
    with world.registry.session(None) as s:
        assert list(s.scalars(select(DataValue.value).where(DataValue.field == "fetuses"))) == ["2"]
