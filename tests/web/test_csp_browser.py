"""The content security policy in a real browser: the pages work under it and break none of its
rules (chromium reports each violation on the console), and htmx still validates as one types."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.web.test_browser import browser, fill_pregnancy, page, server

__all__ = ["browser", "page", "server"]

pytestmark = pytest.mark.browser


def test_no_page_violates_the_csp_and_htmx_still_works(page: Page, server: str) -> None:
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    for url in ["/", "/dose", "/resistance", "/knowledge", "/cases/new?context=congenital"]:
        page.goto(server + url)
    page.goto(server + "/cases/new?context=pregnancy")
    fill_pregnancy(page, weight="900")  # implausible: htmx asks the server as one types
    page.locator("#f-patient-height-cm").dispatch_event("change")
    expect(page.locator("#err-patient-weight-kg")).to_contain_text("900 kg is implausible")
    page.fill("#f-patient-weight-kg", "64")
    page.click("#assess-button")
    expect(page.locator('[data-decision="valacyclovir-prevention"]')).to_be_visible()
    printed = page.evaluate(
        "() => { let n = 0; window.print = () => { n += 1; };"
        " document.querySelector('[data-print]').click(); return n; }"
    )
    assert printed == 1  # the Print button works from static/cmvcds.js
    assert violations == []
