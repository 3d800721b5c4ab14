"""axe-core (WCAG 2.1 A and AA rules) on every kind of page, in Debian's chromium: no serious or
critical violation, and nothing wider than a 390 px screen. The pages are reached as a user
reaches them (forms filled, buttons clicked); axe-core is the vendored, hash-checked build in
``tests/web/vendor/axe-core``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from cmvcds.adapters.cli.registry import open_registry
from cmvcds.adapters.web.demo_registry import DEMO_PASSWORD, DEMO_USERS, seed_demo_registry
from cmvcds.registry.models import Role
from tests.web.axe import AXE, AXE_SHA256, violations
from tests.web.journey_steps import server, site_db  # noqa: F401  (the app as a site runs it)
from tests.web.test_browser import browser  # noqa: F401  (the shared chromium fixture)

pytestmark = pytest.mark.browser

@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    # axe-core is injected as a script of the test's own: the page's CSP (script-src 'self',
    # tests/web/test_csp_browser.py) would refuse it, so this context alone bypasses the CSP
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    opened = context.new_page()
    yield opened
    context.close()


def test_the_vendored_axe_core_is_the_published_build() -> None:
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/cases/new?context=pregnancy",
        "/cases/new?context=congenital",
        "/cases/new?context=transplant",
        "/cases/new?context=hiv",
        "/dose",
        "/resistance",
        "/knowledge",
        "/knowledge/tables/vocabularies",
        "/knowledge/sources/valcyte-us-label",
        "/ask",
        "/registry/login",
    ],
)
def test_form_and_reference_pages(page: Page, server: str, path: str) -> None:  # noqa: F811
    page.goto(server + path)
    assert violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_overflow(page)


def no_overflow(page: Page) -> bool:
    """Nothing sticks out sideways at the current width (wide tables scroll in their box)."""
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_every_demo_assessment(page: Page, server: str) -> None:  # noqa: F811
    page.goto(server + "/")
    links = page.locator("table.cases a").evaluate_all("els => els.map(e => e.href)")
    assert len(links) >= 10
    found = {}
    for link in links:
        page.goto(link)
        found[link] = violations(page)
        page.set_viewport_size({"width": 390, "height": 844})
        if not no_overflow(page):
            found[link].append("wider than a 390 px screen")
        page.set_viewport_size({"width": 1400, "height": 900})
    assert {k: v for k, v in found.items() if v} == {}


def test_result_pages(page: Page, server: str) -> None:  # noqa: F811
    page.goto(server + "/dose")
    page.select_option("#f-drug", "valganciclovir")
    page.select_option("#f-indication", "congenital")
    page.fill("#f-birth-date", "2026-11-01")
    page.fill("#f-weight", "3.2")
    page.click("#dose-button")
    assert violations(page) == []
    page.goto(server + "/resistance")
    page.get_by_label("Mutations").fill("UL97:M460V, UL54:A809V")
    page.get_by_role("button", name="Interpret").click()
    assert violations(page) == []
    page.goto(server + "/cases/new?context=pregnancy")
    page.fill("#f-patient-weight-kg", "900")
    page.click("#assess-button")  # the form again, with its problems
    assert violations(page) == []


def test_registry_pages_of_a_logged_in_investigator(
    page: Page,
    server: str,  # noqa: F811
    site_db: str,  # noqa: F811
) -> None:
    seed_demo_registry(open_registry(site_db))
    page.goto(server + "/registry/login")
    page.get_by_label("User name").fill(DEMO_USERS[Role.SITE_INVESTIGATOR])
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert violations(page) == []
    for name in ("Subjects", "Analyses", "Exports", "Audit trail"):
        page.locator(".registry-nav").get_by_role("link", name=name).click()
        assert violations(page) == [], name
    page.locator(".registry-nav").get_by_role("link", name="Subjects").click()
    page.get_by_role("link", name="Enrol a subject").click()
    assert violations(page) == []


def test_keyboard_focus_is_visible(page: Page, server: str) -> None:  # noqa: F811
    """WCAG 2.4.7: the element reached with Tab shows a clear outline (at least 2 px)."""
    page.goto(server + "/dose")
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        seen.append(style)
    focusable = [s for s in seen if s[0] in ("A", "INPUT", "SELECT", "BUTTON")]
    assert len(focusable) >= 10
    assert all(s[1] != "none" and s[2] >= 2 for s in focusable), focusable
