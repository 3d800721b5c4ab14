"""What every journey does on each page it reaches: screenshots at 1400 and 390 px (to
``artifacts/journeys/``, not committed), no horizontal overflow at 390 px, and axe-core (the
vendored build, WCAG 2.1 A/AA) with no serious or critical violation at either width."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.web.test_accessibility import violations

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "journeys"
WIDE = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


def check_page(page: Page, name: str) -> None:
    """Screenshots, overflow and axe-core on the page as it is now (left at 1400 px)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(WIDE)
    page.screenshot(path=str(SHOTS / f"{name}-1400.png"), full_page=True)
    found = violations(page)
    assert found == [], f"{name} at 1400 px: {found}"
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow} px wider than a 390 px screen"
    found = violations(page)
    assert found == [], f"{name} at 390 px: {found}"
    page.set_viewport_size(WIDE)
