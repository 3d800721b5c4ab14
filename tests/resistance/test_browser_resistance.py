"""The resistance form in Debian's chromium (Playwright), as a laboratory uses it: a VCF that a
pipeline gzipped without renaming, uploaded with a 5 % threshold (issue 18, defect 8)."""

from __future__ import annotations

import gzip

import pytest
from playwright.sync_api import Page, expect

from cmvcds.engine.resistance.genes import ReferenceGenes
from tests.resistance.test_ngs_defects import snv, vcf
from tests.web.test_browser import browser, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_a_gzip_vcf_named_vcf_with_a_threshold(
    page: Page,  # noqa: F811
    server: str,  # noqa: F811
    genes: ReferenceGenes,
) -> None:
    ul97 = genes.gene("UL97")
    data = gzip.compress(vcf(snv(ul97, 460, 0, "G", 0.08)).encode())
    page.goto(f"{server}/resistance")
    page.set_input_files(
        'input[name="sequence"]',
        files=[{"name": "sample.vcf", "mimeType": "text/plain", "buffer": data}],
    )
    page.fill('input[name="threshold"]', "5")
    page.click('button[type="submit"]')
    expect(page.locator('tr[data-drug="ganciclovir"]')).to_have_class("level-moderate")
    expect(page.locator("section.resistance-result")).to_contain_text("UL97:M460V")
    page.goto(f"{server}/resistance")
    page.set_input_files(
        'input[name="sequence"]',
        files=[{"name": "sample.vcf", "mimeType": "text/plain", "buffer": data}],
    )
    page.click('button[type="submit"]')  # default 10 %: the 8 % variant is a minority variant
    expect(page.locator('tr[data-drug="ganciclovir"]')).not_to_have_class("level-moderate")
    expect(page.locator("section.resistance-result")).to_contain_text("Minority variants")
