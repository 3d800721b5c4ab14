"""The audit page in Debian's chromium: a monitor filters and pages it and never sees identity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from cmvcds.adapters.web.pages import CHROMIUM_ARGS
from tests.live_server import serving

from .conftest import PASSWORD, World
from .test_identity_exposure import IDENTITY, MOTHER_MRN, fill

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def live(site: tuple[TestClient, object, dict[str, str]]) -> Iterator[str]:
    client = site[0]
    with serving(client.app) as url:
        yield url


def test_a_monitor_filters_and_pages_the_audit_trail_without_seeing_identity(
    live: str, world: World
) -> None:
    if world.registry.engine.dialect.name != "sqlite":
        pytest.skip("one backend is enough for the browser; the walk covers both")
    mother, _child = fill(world)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        page = browser.new_page()
        page.goto(f"{live}/registry/login")
        page.fill("input[name=username]", "monitor")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live}/registry/audit?limit=10")
        first = page.content()
        assert "Older entries" in first
        page.click("text=Older entries")
        second = page.content()
        assert "before=" in page.url and "limit=10" in page.url and second != first
        page.goto(f"{live}/registry/audit")
        page.fill("input[name=subject]", mother)
        page.select_option("select[name=form]", label="enrolment")
        page.click("text=Filter")
        filtered = page.content()
        subjects = page.locator("tbody tr td:nth-child(6)").all_inner_texts()
        fields = page.locator("tbody tr td:nth-child(8)").all_inner_texts()
        browser.close()
    assert subjects and set(subjects) == {mother}
    # each field named by its labels: event, form and instance, field
    assert fields and all(" · enrolment #1 · " in f for f in fields)
    assert "Maternal diagnosis · enrolment #1 · Mother's date of birth" in fields
    assert "(hidden: identifying)" in filtered
    for html in (first, second, filtered):
        assert [v for v in IDENTITY if v in html] == [], MOTHER_MRN
