"""In Debian's chromium: the administrator deactivates a user, who then cannot log in."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from cmvcds.adapters.web.pages import CHROMIUM_ARGS

from .conftest import PASSWORD, World
from .test_audit_browser import live  # noqa: F401  (the fixture: the pages on a real server)

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")


def test_the_administrator_deactivates_a_user_who_then_cannot_log_in(
    live: str,  # noqa: F811
    world: World,
) -> None:
    if world.registry.engine.dialect.name != "sqlite":
        pytest.skip("one backend is enough for the browser; the TestClient tests cover both")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        admin = browser.new_context().new_page()
        admin.goto(f"{live}/registry/login")
        admin.fill("input[name=username]", "admin")
        admin.fill("input[name=password]", PASSWORD)
        admin.click("button[type=submit]")
        admin.click("nav >> text=Users and sites")  # from the menu, as a person would
        admin.fill("input[aria-label='Reason to deactivate entry_a']", "left the study")
        admin.click("button[aria-label='Deactivate entry_a']")
        admin.wait_for_selector("text=User entry_a deactivated")
        state = admin.locator("tr:has(td:text-is('entry_a')) td:nth-child(4)").inner_text()
        user = browser.new_context().new_page()
        user.goto(f"{live}/registry/login")
        user.fill("input[name=username]", "entry_a")
        user.fill("input[name=password]", PASSWORD)
        user.click("button[type=submit]")
        refused = user.content()
        browser.close()
    assert state == "no"
    assert "unknown user or wrong password" in refused
