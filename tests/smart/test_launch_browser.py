"""The clinician's path in chromium: the EHR opens cmvcds's launch URL, the EHR's sign-in page
asks for approval, and the browser lands on the assessment of the patient in context."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, expect

from tests.smart.conftest import Site
from tests.web.test_browser import browser  # noqa: F401  (the shared chromium fixture)

pytestmark = pytest.mark.browser


def test_ehr_launch_in_chromium_lands_on_the_assessment(
    site: Site,
    browser: Browser,  # noqa: F811
) -> None:
    launch = site.ehr.new_launch("us-preg-13949")
    # the EHR's certificate is the test's own: chromium is told to accept it, as cmvcds is
    # told through CMVCDS_FHIR_CA_FILE
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    try:
        query = urlencode({"iss": site.ehr.fhir, "launch": launch})
        page.goto(f"{site.cmvcds}/smart/launch?{query}")
        expect(page.get_by_role("heading", name="Test EHR: authorize cmvcds")).to_be_visible()
        page.click("#approve")
        page.wait_for_url(f"{site.cmvcds}/smart/assessment")
        decision = page.locator('[data-decision="valacyclovir-prevention"]')
        expect(decision).to_have_attribute("data-outcome", "recommended")
        expect(page.locator("[data-case]")).to_have_attribute("data-case", "cds-us-preg-13949")
        # who signed in, from the checked id_token; the record read again with the button
        expect(page.get_by_text("Signed in at the EHR as")).to_be_visible()
        with page.expect_navigation(url=f"{site.cmvcds}/smart/assessment"):
            page.get_by_role("button", name="Read the record again from the EHR").click()
        expect(decision).to_have_attribute("data-outcome", "recommended")
        patient_reads = [u for u in site.ehr.seen if u.endswith("/fhir/Patient/us-preg-13949")]
        assert len(patient_reads) == 2  # read at the launch and again
        assert len(site.ehr.tokens) == 1  # the access token was still valid: no refresh
        # the session opens the case's own pages (production mode: no registry login here)
        page.get_by_role("link", name="JSON").click()
        assert '"case_id": "cds-us-preg-13949"' in page.content()
    finally:
        context.close()
